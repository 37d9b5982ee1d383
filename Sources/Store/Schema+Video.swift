// MARK: - v4-video-banks: vPDQ videos in banks, and what a video item matched

extension Schema {
  /// Known videos as vPDQ frame lists, and the video side of review items:
  ///
  /// - `bank_video`: one known video of a bank (its name in the list, an optional label, how
  ///   many frames it has); `digest` is the SHA-256 of its frame list as csar writes it, so
  ///   the same video imported twice is counted, not stored twice.
  /// - `bank_video_frame`: the video's frames (`frame`, PDQ `quality`, 64 hex digits `hash`,
  ///   `timestamp` in seconds), in frame order.
  /// - `bank_vpdq`: a bank's vPDQ thresholds (percent of the upload's frames that must match,
  ///   and of the known video's); a bank without a row uses 80 and 0.
  /// - `flagged_item_video`: for an item made from a video upload, what the upload was
  ///   (duration, frame rate, frames hashed) and what matched: a bank video (`vpdq`, with
  ///   both shares and the matched segment of the upload and of the known video) or one
  ///   frame's PDQ against an image bank (`frame_pdq`, the upload's frame and time), or a
  ///   digest of the whole file (`digest`).
  static let v4VideoBanks = """
    CREATE TABLE bank_video (
      id INTEGER PRIMARY KEY,
      bank_id INTEGER NOT NULL REFERENCES bank(id),
      name TEXT NOT NULL,
      label TEXT,
      frame_count INTEGER NOT NULL CHECK (frame_count > 0),
      digest TEXT NOT NULL,
      UNIQUE (bank_id, digest)
    );

    CREATE TABLE bank_video_frame (
      video_id INTEGER NOT NULL REFERENCES bank_video(id),
      frame INTEGER NOT NULL CHECK (frame >= 0),
      quality INTEGER NOT NULL CHECK (quality BETWEEN 0 AND 100),
      hash TEXT NOT NULL CHECK (length(hash) = 64),
      timestamp REAL NOT NULL CHECK (timestamp >= 0),
      PRIMARY KEY (video_id, frame)
    ) WITHOUT ROWID;

    CREATE TABLE bank_vpdq (
      bank_id INTEGER PRIMARY KEY REFERENCES bank(id),
      query_percent REAL NOT NULL CHECK (query_percent BETWEEN 0 AND 100),
      compared_percent REAL NOT NULL CHECK (compared_percent BETWEEN 0 AND 100)
    );

    CREATE TABLE flagged_item_video (
      item_id INTEGER PRIMARY KEY REFERENCES flagged_item(id),
      match TEXT NOT NULL CHECK (match IN ('vpdq', 'frame_pdq', 'digest')),
      duration REAL,
      frame_rate REAL,
      hashed_frames INTEGER,
      bank_video_id INTEGER REFERENCES bank_video(id),
      query_percent REAL,
      compared_percent REAL,
      frame INTEGER,
      start_seconds REAL,
      end_seconds REAL,
      bank_start_seconds REAL,
      bank_end_seconds REAL
    );
    """
}
