// MARK: - Any JSON value, read as strictly as the import lines

extension FlatJSON {
  /// Reads `b` as one JSON value of any shape (objects and arrays nested at most `maxDepth`
  /// deep) with the import lines' strictness: a key given twice, invalid UTF-8, a lone
  /// surrogate escape, a control character in a string, a malformed number or anything
  /// after the value is refused. Whitespace includes line feeds (a request body may span
  /// lines). Numbers become `.int` when written as whole numbers that fit, else `.double`.
  /// The value, or what is wrong.
  public static func parseValue(
    _ b: UnsafeBufferPointer<UInt8>, maxDepth: Int = 16
  ) -> Result<JSONValue, FlatJSONSyntaxError> {
    var reader = Reader(b: b)
    do throws(FlatJSONSyntaxError) {
      let value = try reader.value(depth: 1, maxDepth: maxDepth)
      reader.skipLines()
      guard reader.i == reader.n else {
        throw FlatJSONSyntaxError(reason: "text after the value at byte \(reader.i + 1)")
      }
      return .success(value)
    } catch {
      return .failure(error)
    }
  }
}

/// Why a text is not one strict JSON value.
public struct FlatJSONSyntaxError: Error, Sendable, CustomStringConvertible {
  /// What is wrong, and where.
  public var reason: String

  public var description: String { reason }
}

extension FlatJSON.Reader {
  /// Skips whitespace, line feeds included.
  mutating func skipLines() {
    while i < n, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D || b[i] == 0x0A { i += 1 }
  }

  /// The value at `i` (after whitespace), `depth` levels deep.
  mutating func value(depth: Int, maxDepth: Int) throws(FlatJSONSyntaxError) -> JSONValue {
    func fail(_ reason: String) -> FlatJSONSyntaxError {
      FlatJSONSyntaxError(reason: reason + " at byte \(i + 1)")
    }
    skipLines()
    guard i < n else { throw fail("unexpected end") }
    switch b[i] {
    case 0x22:
      guard let text = string() else { throw fail(stringProblem) }
      return .string(text)
    case 0x7B, 0x5B:
      guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
      return try container(depth: depth, maxDepth: maxDepth)
    default:
      let begin = i
      while i < n, ![0x2C, 0x7D, 0x5D, 0x20, 0x09, 0x0D, 0x0A].contains(b[i]) { i += 1 }
      guard let scalar = literal(begin, i) else {
        i = begin
        throw fail("not a JSON value")
      }
      switch scalar {
      case .null: return .null
      case .bool(let flag): return .bool(flag)
      case .number(let text):
        if scalar.isIntegerLiteral, let whole = Int64(text) { return .int(whole) }
        guard let number = Double(text) else { throw fail("a number out of range") }
        return .double(number)
      case .string, .nested:
        i = begin
        throw fail("not a JSON value")
      }
    }
  }

  /// The object or array at `i`.
  mutating func container(depth: Int, maxDepth: Int) throws(FlatJSONSyntaxError) -> JSONValue {
    let isObject = b[i] == 0x7B
    let close: UInt8 = isObject ? 0x7D : 0x5D
    var members: [String: JSONValue] = [:]
    var items: [JSONValue] = []
    i += 1
    skipLines()
    if i < n, b[i] == close {
      i += 1
      return isObject ? .object(members) : .array(items)
    }
    while true {
      if isObject {
        skipLines()
        guard let key = string() else {
          throw FlatJSONSyntaxError(reason: stringProblem + " (a key) at byte \(i + 1)")
        }
        skipLines()
        guard i < n, b[i] == 0x3A else {
          throw FlatJSONSyntaxError(reason: "expected : after a key at byte \(i + 1)")
        }
        i += 1
        let value = try value(depth: depth + 1, maxDepth: maxDepth)
        guard members.updateValue(value, forKey: key) == nil else {
          throw FlatJSONSyntaxError(
            reason: "the key \"\(ConsentImportParser.printable(key))\" is given twice")
        }
      } else {
        items.append(try value(depth: depth + 1, maxDepth: maxDepth))
      }
      skipLines()
      guard i < n else { throw FlatJSONSyntaxError(reason: "unexpected end") }
      if b[i] == 0x2C {
        i += 1
        continue
      }
      guard b[i] == close else {
        throw FlatJSONSyntaxError(
          reason: "expected , or \(isObject ? "}" : "]") at byte \(i + 1)")
      }
      i += 1
      return isObject ? .object(members) : .array(items)
    }
  }
}
