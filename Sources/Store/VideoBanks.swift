// Known videos in banks (vPDQ frame lists), their per-bank thresholds, and the video side of
// review items.

import Crypto
import Foundation
import GRDB

// MARK: - Values

/// One frame of a known video: its number, PDQ quality, PDQ hash (64 lowercase hex digits)
/// and time in seconds.
public struct BankVideoFrame: Hashable, Sendable {
  /// 0-based frame number.
  public var frame: Int
  /// PDQ quality 0...100.
  public var quality: Int
  /// 64 lowercase hex digits.
  public var hash: String
  /// Seconds from the start.
  public var timestamp: Double

  /// Creates a frame (the caller has validated it).
  public init(frame: Int, quality: Int, hash: String, timestamp: Double) {
    self.frame = frame
    self.quality = quality
    self.hash = hash
    self.timestamp = timestamp
  }
}

/// A known video to import into a bank: its name in the list, a label, and its frames.
public struct BankVideoEntry: Hashable, Sendable {
  /// The list's name of the video (for a sample-hash file, the file name without extension).
  public var name: String
  /// What the list says the video is (optional).
  public var label: String?
  /// Its frames, in frame order.
  public var frames: [BankVideoFrame]

  /// Creates an entry.
  public init(name: String, label: String? = nil, frames: [BankVideoFrame]) {
    self.name = name
    self.label = label
    self.frames = frames
  }

  /// SHA-256 of the frame list as `frame,quality,hex,timestamp` lines: the same video
  /// imported twice (under any name) has the same digest.
  public var digest: String {
    var text = ""
    for f in frames {
      text += "\(f.frame),\(f.quality),\(f.hash),\(String(format: "%.3f", f.timestamp))\n"
    }
    return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
  }
}

/// A stored known video with where it lives and what its bank demands of a match.
public struct BankVideoRow: Hashable, Sendable {
  /// `bank_video` row id.
  public var id: Int64
  /// The bank's name.
  public var bank: String
  /// The list's name of the video.
  public var name: String
  /// Its label, if any.
  public var label: String?
  /// Frames stored.
  public var frameCount: Int
  /// The bank's PDQ threshold (the frame distance of the vPDQ rule).
  public var distance: Int
  /// Percent of the upload's frames that must match.
  public var queryPercent: Double
  /// Percent of the known video's frames that must match.
  public var comparedPercent: Double
  /// The bank's current version (`bank_version` row id) when the video was read.
  public var versionId: Int64? = nil
}

/// A bank's vPDQ thresholds.
public struct VPDQThresholds: Hashable, Sendable {
  /// Percent of the upload's trusted frames that must match (default 80).
  public var queryPercent: Double
  /// Percent of the known video's trusted frames that must match (default 0).
  public var comparedPercent: Double

  /// The vPDQ rule's defaults: 80 and 0.
  public static let `default` = VPDQThresholds(queryPercent: 80, comparedPercent: 0)

  /// Creates thresholds.
  public init(queryPercent: Double, comparedPercent: Double) {
    self.queryPercent = queryPercent
    self.comparedPercent = comparedPercent
  }
}

/// What a review item made from a video upload matched.
public struct FlaggedVideoMatch: Hashable, Sendable {
  /// How the video matched.
  public enum Kind: String, Hashable, Sendable {
    /// The vPDQ rule against a bank video.
    case vpdq
    /// One frame's PDQ against an image bank.
    case framePDQ = "frame_pdq"
    /// The file's SHA-256 or MD5.
    case digest
  }

  /// How it matched.
  public var kind: Kind
  /// The upload's duration in seconds (nil when it could not be decoded).
  public var duration: Double?
  /// The upload's frame rate.
  public var frameRate: Double?
  /// Frames of the upload hashed.
  public var hashedFrames: Int?
  /// The bank video matched (vPDQ).
  public var bankVideoId: Int64?
  /// Percent of the upload's frames that matched (vPDQ).
  public var queryPercent: Double?
  /// Percent of the bank video's frames that matched (vPDQ).
  public var comparedPercent: Double?
  /// The upload's frame that matched (frame PDQ), or the first matched frame (vPDQ).
  public var frame: Int?
  /// The matched segment of the upload, in seconds.
  public var startSeconds: Double?
  /// Its end.
  public var endSeconds: Double?
  /// The matched segment of the bank video (vPDQ).
  public var bankStartSeconds: Double?
  /// Its end.
  public var bankEndSeconds: Double?

  /// Creates a record.
  public init(
    kind: Kind, duration: Double? = nil, frameRate: Double? = nil, hashedFrames: Int? = nil,
    bankVideoId: Int64? = nil, queryPercent: Double? = nil, comparedPercent: Double? = nil,
    frame: Int? = nil, startSeconds: Double? = nil, endSeconds: Double? = nil,
    bankStartSeconds: Double? = nil, bankEndSeconds: Double? = nil
  ) {
    self.kind = kind
    self.duration = duration
    self.frameRate = frameRate
    self.hashedFrames = hashedFrames
    self.bankVideoId = bankVideoId
    self.queryPercent = queryPercent
    self.comparedPercent = comparedPercent
    self.frame = frame
    self.startSeconds = startSeconds
    self.endSeconds = endSeconds
    self.bankStartSeconds = bankStartSeconds
    self.bankEndSeconds = bankEndSeconds
  }

  /// The record as audit details.
  var json: JSONValue {
    func number(_ value: Double?) -> JSONValue { value.map { .double($0) } ?? .null }
    return .object([
      "match": .string(kind.rawValue), "duration": number(duration),
      "frame_rate": number(frameRate),
      "hashed_frames": hashedFrames.map { .int(Int64($0)) } ?? .null,
      "bank_video": bankVideoId.map { .int($0) } ?? .null,
      "query_percent": number(queryPercent), "compared_percent": number(comparedPercent),
      "frame": frame.map { .int(Int64($0)) } ?? .null, "start_seconds": number(startSeconds),
      "end_seconds": number(endSeconds), "bank_start_seconds": number(bankStartSeconds),
      "bank_end_seconds": number(bankEndSeconds),
    ])
  }
}

/// What a vPDQ import did.
public struct VideoBankImportSummary: Hashable, Sendable {
  /// The bank imported into.
  public var bank: String
  /// Whether the import created the bank.
  public var created: Bool
  /// Videos added.
  public var added: Int
  /// Videos the bank already held (same frames), not added again.
  public var alreadyPresent: Int
  /// Frames added.
  public var frames: Int
  /// The version the import made (nil when it changed nothing).
  public var version: BankVersion? = nil
}

// MARK: - Writes

extension AppDatabase {
  /// Imports known videos into bank `name` (created, enabled, when missing) in one
  /// transaction, with one `bank.import` event and a new version of the bank (its counts
  /// are videos; `source` names the file or folder); a video the bank already holds (same
  /// frames) is counted, not stored twice. No event or version when nothing changed.
  @discardableResult
  public func importVideoBank(
    name: String, videos: [BankVideoEntry], source: BankSource? = nil, by operatorName: String
  ) throws -> VideoBankImportSummary {
    try Self.checkListName(name, field: "bank name")
    for video in videos where video.frames.isEmpty {
      throw StoreError.invalidValue(
        field: "video", value: video.name, reason: "a known video needs at least one frame")
    }
    return try withImportTuning(.forBanks, large: videos.count > 1_000) {
      try audited(by: operatorName) { db, audit in
        let (bankId, created) = try Self.findOrCreateList(
          db, .bank(threshold: 31), name: name, at: audit.at)
        let insertVideo = try db.cachedStatement(
          sql: """
            INSERT OR IGNORE INTO bank_video (bank_id, name, label, frame_count, digest)
            VALUES (?, ?, ?, ?, ?)
            """)
        let insertFrame = try db.cachedStatement(
          sql: """
            INSERT INTO bank_video_frame (video_id, frame, quality, hash, timestamp)
            VALUES (?, ?, ?, ?, ?)
            """)
        var added = 0
        var frames = 0
        for video in videos {
          try insertVideo.execute(arguments: [
            bankId, video.name, video.label, video.frames.count, video.digest,
          ])
          guard db.changesCount > 0 else { continue }
          let videoId = db.lastInsertedRowID
          added += 1
          for frame in video.frames {
            insertFrame.setUncheckedArguments([
              videoId, frame.frame, frame.quality, frame.hash, frame.timestamp,
            ])
            do {
              try insertFrame.execute()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
              throw StoreError.invalidValue(
                field: "video \(video.name) frame", value: String(frame.frame),
                reason: "frame numbers must be unique within a video")
            }
            frames += 1
          }
        }
        var summary = VideoBankImportSummary(
          bank: name, created: created, added: added, alreadyPresent: videos.count - added,
          frames: frames)
        guard created || added > 0 else { return summary }
        let version = try Self.recordBankVersion(
          db, bankId: bankId, name: name, change: .import, added: added, removed: 0,
          source: source, audit: audit)
        summary.version = version
        let details: [String: JSONValue] = [
          "name": .string(name), "created": .bool(created), "type": "vpdq",
          "videos_added": .int(Int64(added)),
          "already_present": .int(Int64(summary.alreadyPresent)),
          "frames_added": .int(Int64(frames)),
        ]
        try audit.record(
          action: "bank.import", entity: "bank", entityId: String(bankId),
          after: .object(details.merging(Self.versionDetails(version)) { a, _ in a }))
        return summary
      }
    }
  }

  /// Sets a bank's vPDQ thresholds (percent, 0...100 each); audited as `bank.vpdq_threshold`.
  /// No event when nothing changes.
  @discardableResult
  public func setVPDQThresholds(
    name: String, _ thresholds: VPDQThresholds, by operatorName: String
  ) throws -> VPDQThresholds {
    for (field, value) in [
      ("query percent", thresholds.queryPercent), ("compared percent", thresholds.comparedPercent),
    ] where !(value.isFinite && (0...100).contains(value)) {
      throw StoreError.invalidValue(field: field, value: "\(value)", reason: "use 0...100")
    }
    return try audited(by: operatorName) { db, audit in
      let bank = try Self.bankRow(db, name: name)
      let old = try Self.vpdqThresholds(db, bankId: bank.id)
      guard old != thresholds else { return old }
      try db.execute(
        sql: """
          INSERT INTO bank_vpdq (bank_id, query_percent, compared_percent) VALUES (?, ?, ?)
          ON CONFLICT (bank_id) DO UPDATE SET query_percent = excluded.query_percent,
            compared_percent = excluded.compared_percent
          """,
        arguments: [bank.id, thresholds.queryPercent, thresholds.comparedPercent])
      try audit.record(
        action: "bank.vpdq_threshold", entity: "bank", entityId: String(bank.id),
        before: [
          "query_percent": .double(old.queryPercent),
          "compared_percent": .double(old.comparedPercent),
        ],
        after: [
          "query_percent": .double(thresholds.queryPercent),
          "compared_percent": .double(thresholds.comparedPercent),
        ])
      return thresholds
    }
  }

  /// Records what a video item matched (inside the item's own transaction).
  static func insertVideoMatch(_ db: Database, itemId: Int64, _ match: FlaggedVideoMatch)
    throws
  {
    try db.execute(
      sql: """
        INSERT INTO flagged_item_video (item_id, match, duration, frame_rate, hashed_frames,
          bank_video_id, query_percent, compared_percent, frame, start_seconds, end_seconds,
          bank_start_seconds, bank_end_seconds)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        itemId, match.kind.rawValue, match.duration, match.frameRate, match.hashedFrames,
        match.bankVideoId, match.queryPercent, match.comparedPercent, match.frame,
        match.startSeconds, match.endSeconds, match.bankStartSeconds, match.bankEndSeconds,
      ])
  }

  // MARK: - Reads

  /// A bank's vPDQ thresholds (the defaults when none were set).
  public func vpdqThresholds(bank name: String) throws -> VPDQThresholds {
    try read { db in try Self.vpdqThresholds(db, bankId: Self.bankRow(db, name: name).id) }
  }

  /// Known videos per bank name (every bank, enabled or not).
  public func bankVideoCounts() throws -> [String: Int] {
    try read { db in
      var counts: [String: Int] = [:]
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT b.name, count(*) FROM bank_video v JOIN bank b ON b.id = v.bank_id
          GROUP BY b.name
          """)
      {
        counts[row[0]] = row[1]
      }
      return counts
    }
  }

  /// Changes whenever what the video banks match changes: a bank enabled, disabled,
  /// retuned or deleted, vPDQ thresholds set, or videos imported (each import makes a new
  /// version, which the bank row names).
  public func videoBankStamp() throws -> String {
    try read { db in
      let banks =
        try String.fetchOne(
          db,
          sql: """
            SELECT group_concat(b.id || ':' || b.enabled || ':' || b.pdq_threshold || ':'
              || ifnull(s.query_percent, '') || ':' || ifnull(s.compared_percent, '') || ':'
              || ifnull(b.current_version_id, ''), ',')
            FROM (SELECT * FROM bank ORDER BY id) b LEFT JOIN bank_vpdq s ON s.bank_id = b.id
            """) ?? ""
      let top = try Int64.fetchOne(db, sql: "SELECT max(id) FROM bank_video") ?? 0
      return banks + "/" + String(top)
    }
  }

  /// Calls `body` with every video of the enabled banks and its frames (in frame order), in
  /// one read snapshot, streaming (one video's frames in memory at a time).
  public func forEachEnabledBankVideo(
    _ body: (BankVideoRow, [BankVideoFrame]) throws -> Void
  ) throws {
    try read { db in
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT v.id, b.name, v.name, v.label, v.frame_count, b.pdq_threshold,
            ifnull(s.query_percent, 80), ifnull(s.compared_percent, 0),
            f.frame, f.quality, f.hash, f.timestamp, b.current_version_id
          FROM bank b JOIN bank_video v ON v.bank_id = b.id
          JOIN bank_video_frame f ON f.video_id = v.id
          LEFT JOIN bank_vpdq s ON s.bank_id = b.id
          WHERE b.enabled = 1
          ORDER BY v.id, f.frame
          """)
      var current: BankVideoRow?
      var frames: [BankVideoFrame] = []
      while let row = try rows.next() {
        let id: Int64 = row[0]
        if current?.id != id {
          if let current { try body(current, frames) }
          current = BankVideoRow(
            id: id, bank: row[1], name: row[2], label: row[3], frameCount: row[4],
            distance: row[5], queryPercent: row[6], comparedPercent: row[7], versionId: row[12])
          frames.removeAll(keepingCapacity: true)
        }
        frames.append(
          BankVideoFrame(frame: row[8], quality: row[9], hash: row[10], timestamp: row[11]))
      }
      if let current { try body(current, frames) }
    }
  }

  /// A bank's videos with their frames, in import order (for export).
  public func bankVideos(bank name: String) throws -> [BankVideoEntry] {
    try read { db in
      let bank = try Self.bankRow(db, name: name)
      var videos: [Int64: BankVideoEntry] = [:]
      var order: [Int64] = []
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT v.id, v.name, v.label, f.frame, f.quality, f.hash, f.timestamp
          FROM bank_video v JOIN bank_video_frame f ON f.video_id = v.id
          WHERE v.bank_id = ? ORDER BY v.id, f.frame
          """, arguments: [bank.id])
      while let row = try rows.next() {
        let id: Int64 = row[0]
        if videos[id] == nil {
          order.append(id)
          videos[id] = BankVideoEntry(name: row[1], label: row[2], frames: [])
        }
        videos[id]!.frames.append(
          BankVideoFrame(frame: row[3], quality: row[4], hash: row[5], timestamp: row[6]))
      }
      return order.map { videos[$0]! }
    }
  }

  /// One stored video by row id (with its bank and thresholds), or nil.
  public func bankVideo(id: Int64) throws -> BankVideoRow? {
    try read { db in
      try Row.fetchOne(
        db,
        sql: """
          SELECT v.id, b.name, v.name, v.label, v.frame_count, b.pdq_threshold,
            ifnull(s.query_percent, 80), ifnull(s.compared_percent, 0), b.current_version_id
          FROM bank_video v JOIN bank b ON b.id = v.bank_id
          LEFT JOIN bank_vpdq s ON s.bank_id = b.id WHERE v.id = ?
          """, arguments: [id]
      ).map {
        BankVideoRow(
          id: $0[0], bank: $0[1], name: $0[2], label: $0[3], frameCount: $0[4],
          distance: $0[5], queryPercent: $0[6], comparedPercent: $0[7], versionId: $0[8])
      }
    }
  }

  /// What a video item matched, or nil for an item that is not a video match.
  public func videoMatch(itemId: Int64) throws -> FlaggedVideoMatch? {
    try read { db in
      try Row.fetchOne(
        db,
        sql: """
          SELECT match, duration, frame_rate, hashed_frames, bank_video_id, query_percent,
            compared_percent, frame, start_seconds, end_seconds, bank_start_seconds,
            bank_end_seconds
          FROM flagged_item_video WHERE item_id = ?
          """, arguments: [itemId]
      ).map { row in
        FlaggedVideoMatch(
          kind: FlaggedVideoMatch.Kind(rawValue: row[0]) ?? .digest, duration: row[1],
          frameRate: row[2], hashedFrames: row[3], bankVideoId: row[4], queryPercent: row[5],
          comparedPercent: row[6], frame: row[7], startSeconds: row[8], endSeconds: row[9],
          bankStartSeconds: row[10], bankEndSeconds: row[11])
      }
    }
  }

  static func vpdqThresholds(_ db: Database, bankId: Int64) throws -> VPDQThresholds {
    try Row.fetchOne(
      db, sql: "SELECT query_percent, compared_percent FROM bank_vpdq WHERE bank_id = ?",
      arguments: [bankId]
    ).map { VPDQThresholds(queryPercent: $0[0], comparedPercent: $0[1]) } ?? .default
  }
}
