// MARK: - Record indices of one account and service

/// The record indices of one pair of a ``ConsentImportPlan``: the first kept inline, the
/// others in an array.
///
/// Most pairs of an import have a single event, and an array per pair costs a heap
/// allocation (two per pair: its records and the accepted ones). An empty array allocates
/// nothing, so a pair of one event allocates nothing.
struct IndexList: RandomAccessCollection, MutableCollection, Equatable {
  /// The first index, or -1 when the list is empty (indices are never negative).
  private var head: Int32 = -1
  private var rest: [Int32] = []

  init() {}

  init(_ indices: some Sequence<Int32>) {
    for index in indices { append(index) }
  }

  var startIndex: Int { 0 }
  var endIndex: Int { head < 0 ? 0 : 1 + rest.count }

  subscript(position: Int) -> Int32 {
    get {
      precondition(position >= 0 && position < endIndex, "index \(position) out of range")
      return position == 0 ? head : rest[position - 1]
    }
    set {
      precondition(position >= 0 && position < endIndex, "index \(position) out of range")
      precondition(newValue >= 0, "a negative record index")
      if position == 0 { head = newValue } else { rest[position - 1] = newValue }
    }
  }

  mutating func append(_ index: Int32) {
    precondition(index >= 0, "a negative record index")
    if head < 0 { head = index } else { rest.append(index) }
  }

  mutating func removeAll() {
    head = -1
    rest.removeAll()
  }
}
