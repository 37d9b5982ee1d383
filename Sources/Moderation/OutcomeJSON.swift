// The JSON forms of the gate's answers: one line of `csar scan --json`, and the body of the
// service's `/v1/scan` replies (the same object, so scripts read both alike).

import Store

extension ScanOutcome {
  /// `{"input","type","decision",...}`: "reason" and "consent" (blocked), "item" and "kind"
  /// (flagged), "sha256","md5","sha1","pdq","quality","width","height","matches",
  /// "untrusted_pdq_matches" (files), "canonical","matches" (URLs), "error"; and for an
  /// uploader with twin accounts, whatever the decision, "twins": each
  /// `{"account","pseudonym","consent"}`.
  public var jsonLine: String {
    var pairs: [(String, JSONValue)] = [
      ("input", .string(input)), ("type", .string(isURL ? "url" : "file")),
      ("decision", .string(decision.code)),
    ]
    switch decision {
    case .blockedNoConsent(let state):
      pairs += [("reason", "no consent"), ("consent", .string(state.rawValue))]
    case .blockedByTwin(let state):
      pairs += [
        ("reason", .string(ScanSubject.twinReason)), ("consent", .string(state.rawValue)),
      ]
    case .flagged(let kind, let itemId):
      pairs += [("item", .int(itemId)), ("kind", .string(kind.rawValue))]
    case .matched(let kind):
      pairs.append(("kind", .string(kind.rawValue)))
    case .error(let message):
      pairs.append(("error", .string(message)))
    case .allowed:
      break
    }
    if !twins.isEmpty {
      pairs.append(
        (
          "twins",
          .array(
            twins.map {
              [
                "account": .string($0.account.externalId),
                "pseudonym": .string($0.account.pseudonym),
                "consent": .string($0.consent.rawValue),
              ]
            })
        ))
    }
    if decision.code == "blocked" { return OrderedJSON.object(pairs) }
    if isURL {
      pairs.append(("canonical", .text(canonicalURL)))
      pairs.append(("matches", .array(urlHits.map(\.json))))
    } else if sha256 != nil {
      pairs += [
        ("sha256", .text(sha256)), ("md5", .text(md5)), ("sha1", .text(sha1)),
        ("pdq", .text(pdq)), ("quality", quality.map { .int(Int64($0)) } ?? .null),
        ("width", width.map { .int(Int64($0)) } ?? .null),
        ("height", height.map { .int(Int64($0)) } ?? .null),
        ("matches", .array(matches.map(\.json))),
        ("untrusted_pdq_matches", .array(untrustedPDQMatches.map(\.json))),
      ]
      if let video {
        pairs.append(
          (
            "video",
            .object([
              "hashed_frames": .int(Int64(video.hashedFrames)),
              "trusted_frames": .int(Int64(video.trustedFrames)),
              "duration": .double(video.duration),
              "frame_rate": .double(video.frameRate),
            ])
          ))
      }
      if let animation {
        pairs.append(
          (
            "animation",
            .object([
              "frames": .int(Int64(animation.frames)),
              "trusted_frames": .int(Int64(animation.trustedFrames)),
              "more_frames": .bool(animation.moreFrames),
            ])
          ))
      }
      if let imageError, decision.code != "error" {
        pairs.append(("image_error", .string(imageError)))
      }
    }
    return OrderedJSON.object(pairs)
  }
}

extension KnownMatch {
  /// `{"bank","distance","label","source_id","type",
  /// "bank_version","on_match"}`; a match found in a video adds
  /// "frame" and "segment" ([start, end] seconds of the upload), and a vPDQ match (type
  /// `vpdq`) "query_percent", "compared_percent" and "bank_segment".
  public var json: JSONValue {
    var object: [String: JSONValue] = [
      "bank": .string(bank), "type": .string(video == nil ? type.rawValue : "vpdq"),
      "distance": .int(Int64(distance)), "label": .text(label), "source_id": .text(sourceId),
      "bank_version": version.map { .int(Int64($0)) } ?? .null,
      "on_match": .string(onMatch.rawValue),
    ]
    if let frame { object["frame"] = .int(Int64(frame)) }
    if let segment {
      object["segment"] = .array([.double(segment.lowerBound), .double(segment.upperBound)])
    }
    if let video {
      object["query_percent"] = .double(video.queryPercent)
      object["compared_percent"] = .double(video.comparedPercent)
      object["bank_segment"] = .array([
        .double(video.bankSegment.lowerBound), .double(video.bankSegment.upperBound),
      ])
    }
    return .object(object)
  }
}

extension URLListHit {
  /// `{"expression","label","list"}`.
  public var json: JSONValue {
    .object([
      "list": .string(list), "expression": .string(expression), "label": .text(label),
    ])
  }
}
