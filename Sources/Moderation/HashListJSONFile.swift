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
  static func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: String) -> BankFile {
    var collector = EntryCollector(file: file, format: .hmaJSON)
    var reader = ListJSONReader(bytes)
    let values: [ListJSON]
    do {
      values = try reader.values()
    } catch {
      collector.problem(line: error.line, field: "", "not valid JSON: \(error.reason)")
      return collector.result
    }
    for value in values {
      if let elements = value.elements, values.count == 1 {
        for (i, element) in elements.enumerated() {
          item(element, field: "[\(i)]", into: &collector)
        }
      } else {
        item(value, field: "", into: &collector)
      }
    }
    return collector.result
  }

  /// One top-level item: an HMA signal object or content, or StopNCII records.
  static func item(_ value: ListJSON, field: String, into collector: inout EntryCollector) {
    guard case .object = value.kind else {
      collector.problem(
        line: value.line, field: field,
        "expected an object of signals or a hash record, not \(value.typeName)")
      return
    }
    if let records = value["hashRecords"] {
      collector.result.format = .stopNCIIJSON
      guard let elements = records.elements else {
        collector.problem(
          line: records.line, field: join(field, "hashRecords"), "expected an array")
        return
      }
      for (i, record) in elements.enumerated() {
        stopNCIIRecord(record, field: join(field, "hashRecords[\(i)]"), into: &collector)
      }
    } else if value["signalType"] != nil || value["hashValue"] != nil {
      collector.result.format = .stopNCIIJSON
      stopNCIIRecord(value, field: field, into: &collector)
    } else if let signals = value["signals"] {
      hmaContent(value, signals: signals, field: field, into: &collector)
    } else {
      signalMap(value, field: field, into: &collector)
    }
  }

  // MARK: - HMA

  static func signalMap(
    _ signals: ListJSON, field: String, label: String? = nil, sourceId: String? = nil,
    metadata: [(String, String)] = [], into collector: inout EntryCollector
  ) {
    guard case .object(let members) = signals.kind, !members.isEmpty else {
      collector.problem(
        line: signals.line, field: field,
        "expected an object of signals such as {\"pdq\": \"...\"}, not \(signals.typeName)")
      return
    }
    for (type, value) in members {
      guard case .string(let text) = value.kind else {
        collector.problem(
          line: value.line, field: join(field, type),
          "a signal is a string of hex digits, not \(value.typeName)")
        continue
      }
      collector.add(
        typeName: type, value: text, line: value.line, field: join(field, type), label: label,
        sourceId: sourceId, metadata: metadata)
    }
  }

  static func hmaContent(
    _ content: ListJSON, signals: ListJSON, field: String, into collector: inout EntryCollector
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
      signals, field: join(field, "signals"), label: label, sourceId: sourceId,
      metadata: pairs, into: &collector)
  }

  // MARK: - StopNCII

  static func stopNCIIRecord(
    _ record: ListJSON, field: String, into collector: inout EntryCollector
  ) {
    guard case .object(let members) = record.kind else {
      collector.problem(
        line: record.line, field: field, "expected a hash record, not \(record.typeName)")
      return
    }
    guard let type = record["signalType"]?.text, !type.isEmpty else {
      collector.problem(line: record.line, field: join(field, "signalType"), "missing")
      return
    }
    guard let hashValue = record["hashValue"], case .string(let hash) = hashValue.kind else {
      collector.problem(
        line: record.line, field: join(field, "hashValue"), "missing, or not a string")
      return
    }
    let status = record["hashStatus"]?.text ?? ""
    let own = ["signalType", "hashValue", "label", "sourceId"]
    let pairs = members.filter { !own.contains($0.key) }
      .compactMap { member -> (String, String)? in
        if case .null = member.value.kind { return nil }
        return (member.key, member.value.metadataText)
      }
    collector.add(
      typeName: type, value: hash, line: hashValue.line, field: join(field, "hashValue"),
      label: record["label"]?.text, sourceId: record["sourceId"]?.text, metadata: pairs,
      withdrawn: status == "Withdrawn" || status == "Deleted")
  }

  static func join(_ field: String, _ name: String) -> String {
    field.isEmpty ? name : name.hasPrefix("[") ? field + name : field + "." + name
  }
}
