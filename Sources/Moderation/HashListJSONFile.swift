// HMA 2.0 and StopNCII JSON hash lists.

import Store

/// Reads HMA 2.0 JSON and StopNCII-style JSON into a ``BankFile``.
///
/// - HMA: a signal object as `POST /c/bank/NAME/signal` takes and `/h/hash` answers
///   (`{"pdq": "...", "video_md5": "..."}`), or a bank content as HMA answers it or csar
///   exports it (`{"id", "bank": {"name"}, "signals": {...}, "metadata": {"content_id",
///   "content_uri", "json": {...}}, "collab_metadata"}`): alone, in an array, or one per line.
///   `metadata.content_id` becomes the source id, `metadata.json.label` the label, every other
///   field metadata.
/// - StopNCII: hash records (`signalType` ImagePDQ/VideoMD5, `hashValue`, `hashStatus`,
///   `caseNumbers`, ...) alone, in an array, or in a FetchHashes reply (`hashRecords`).
///   Records whose `hashStatus` is Withdrawn or Deleted are not imported: they are listed in
///   ``BankFile/withdrawn``. `label` and `sourceId` (which csar's export writes) are the
///   label and source id; other fields are metadata.
///
/// Signal types csar has no bank for (`vpdq`, VideoTMK, `url`, ...) are counted in
/// ``BankFile/unsupported``.
enum HashListJSONFile {
  /// Reads the items one at a time (a 1M-entry list never becomes one tree): each element of
  /// a top-level array, each record of a FetchHashes reply's `hashRecords`, or each value of
  /// JSON Lines. Any syntax error makes the whole file one problem, as before anything is
  /// imported.
  static func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: String) -> BankFile {
    var collector = EntryCollector(file: file, format: .hmaJSON)
    var reader = ListJSONReader(bytes)
    do throws(ListJSONError) {
      var values = 0
      var streamedArray = false
      reader.skipSpace()
      while reader.at < bytes.count {
        if values == 0, bytes[reader.at] == UInt8(ascii: "[") {
          // Items of the document, unless another value follows (then see below).
          try reader.elements(depth: 0) { element, i in
            item(element, field: "[\(i)]", into: &collector)
          }
          streamedArray = true
        } else if bytes[reader.at] == UInt8(ascii: "{") {
          try topLevelObject(&reader, into: &collector)
        } else {
          item(try reader.value(depth: 0), field: "", into: &collector)
        }
        values += 1
        reader.skipSpace()
        if reader.at < bytes.count, bytes[reader.at] == UInt8(ascii: ",") {
          throw ListJSONError(line: reader.line, reason: "a comma between top-level values")
        }
      }
      if streamedArray, values > 1 {
        // An array among several values is one (wrong) item, not a list of them: read again
        // as values.
        collector = EntryCollector(file: file, format: .hmaJSON)
        var again = ListJSONReader(bytes)
        for value in try again.values() { item(value, field: "", into: &collector) }
      }
    } catch {
      collector = EntryCollector(file: file, format: .hmaJSON)
      collector.problem(line: error.line, field: "", "not valid JSON: \(error.reason)")
    }
    return collector.result
  }

  /// A top-level object: a FetchHashes reply's records are taken as they are read; any other
  /// object is read whole and taken as one item.
  static func topLevelObject(
    _ reader: inout ListJSONReader, into collector: inout EntryCollector
  ) throws(ListJSONError) {
    var sawRecords = false
    var streamed = false
    let object = try reader.object(depth: 0) {
      (key: String, reader: inout ListJSONReader) throws(ListJSONError) -> Bool in
      // The first `hashRecords` counts (as `item` reads it); one that is not an array is
      // kept for `item` to report.
      guard !sawRecords, key == "hashRecords" else { return false }
      sawRecords = true
      guard reader.startsArray() else { return false }
      collector.result.format = .stopNCIIJSON
      try reader.elements(depth: 1) { record, i in
        stopNCIIRecord(record, field: "hashRecords[\(i)]", into: &collector)
      }
      streamed = true
      return true
    }
    // With its records taken, a reply's other members (count, paging) are not items.
    if !streamed { item(object, field: "", into: &collector) }
  }

  /// One top-level item: an HMA signal object or content, or StopNCII records.
  static func item(
    _ value: ListJSON, field: @autoclosure () -> String, into collector: inout EntryCollector
  ) {
    guard case .object = value.kind else {
      collector.problem(
        line: value.line, field: field(),
        "expected an object of signals or a hash record, not \(value.typeName)")
      return
    }
    if let records = value["hashRecords"] {
      collector.result.format = .stopNCIIJSON
      guard let elements = records.elements else {
        collector.problem(
          line: records.line, field: join(field(), "hashRecords"), "expected an array")
        return
      }
      for (i, record) in elements.enumerated() {
        stopNCIIRecord(record, field: join(field(), "hashRecords[\(i)]"), into: &collector)
      }
    } else if value["signalType"] != nil || value["hashValue"] != nil {
      collector.result.format = .stopNCIIJSON
      stopNCIIRecord(value, field: field(), into: &collector)
    } else if let signals = value["signals"] {
      hmaContent(value, signals: signals, field: field(), into: &collector)
    } else {
      signalMap(value, field: field(), into: &collector)
    }
  }

  // MARK: - HMA

  static func signalMap(
    _ signals: ListJSON, field: @autoclosure () -> String, label: String? = nil,
    sourceId: String? = nil, metadata: [(String, String)] = [],
    into collector: inout EntryCollector
  ) {
    guard case .object(let members) = signals.kind, !members.isEmpty else {
      collector.problem(
        line: signals.line, field: field(),
        "expected an object of signals such as {\"pdq\": \"...\"}, not \(signals.typeName)")
      return
    }
    for (type, value) in members {
      guard case .string(let text) = value.kind else {
        collector.problem(
          line: value.line, field: join(field(), type),
          "a signal is a string of hex digits, not \(value.typeName)")
        continue
      }
      collector.add(
        typeName: type, value: text, line: value.line, field: join(field(), type), label: label,
        sourceId: sourceId, metadata: metadata)
    }
  }

  static func hmaContent(
    _ content: ListJSON, signals: ListJSON, field: @autoclosure () -> String,
    into collector: inout EntryCollector
  ) {
    var label: String?
    var sourceId: String?
    var pairs: [(String, String)] = []
    for (key, value) in content.members where key != "signals" {
      switch key {
      case "metadata":
        for (name, item) in value.members {
          switch name {
          case "content_id": sourceId = item.text
          case "json":
            for (jsonName, jsonValue) in item.members {
              if jsonName == "label" {
                label = jsonValue.text
              } else {
                pairs.append((jsonName, jsonValue.metadataText))
              }
            }
          default: pairs.append((name, item.metadataText))
          }
        }
      case "id": pairs.append(("hma_id", value.metadataText))
      case "bank":
        if let name = value["name"]?.text { pairs.append(("hma_bank", name)) }
      case "collab_metadata":
        for (name, item) in value.members { pairs.append((name, item.metadataText)) }
      default:
        if case .null = value.kind { continue }
        pairs.append((key, value.metadataText))
      }
    }
    signalMap(
      signals, field: join(field(), "signals"), label: label, sourceId: sourceId,
      metadata: pairs, into: &collector)
  }

  // MARK: - StopNCII

  static func stopNCIIRecord(
    _ record: ListJSON, field: @autoclosure () -> String, into collector: inout EntryCollector
  ) {
    guard case .object(let members) = record.kind else {
      collector.problem(
        line: record.line, field: field(), "expected a hash record, not \(record.typeName)")
      return
    }
    guard let type = record["signalType"]?.text, !type.isEmpty else {
      collector.problem(line: record.line, field: join(field(), "signalType"), "missing")
      return
    }
    guard let hashValue = record["hashValue"], case .string(let hash) = hashValue.kind else {
      collector.problem(
        line: record.line, field: join(field(), "hashValue"), "missing, or not a string")
      return
    }
    let status = record["hashStatus"]?.text ?? ""
    let pairs = members.compactMap { member -> (String, String)? in
      switch (member.key, member.value.kind) {
      case ("signalType", _), ("hashValue", _), ("label", _), ("sourceId", _), (_, .null): nil
      default: (member.key, member.value.metadataText)
      }
    }
    collector.add(
      typeName: type, value: hash, line: hashValue.line, field: join(field(), "hashValue"),
      label: record["label"]?.text, sourceId: record["sourceId"]?.text, metadata: pairs,
      withdrawn: status == "Withdrawn" || status == "Deleted")
  }

  static func join(_ field: String, _ name: String) -> String {
    field.isEmpty ? name : name.hasPrefix("[") ? field + name : field + "." + name
  }
}
