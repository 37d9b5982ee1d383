// A real HTTP/1.1 client over a TCP socket, and the `csar serve` process it talks to.

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
  import Glibc
#endif

// MARK: - HTTP over a socket

/// One HTTP reply.
struct HTTPReply {
  var status: Int
  /// Header names lowercased.
  var headers: [String: String]
  var body: [UInt8]

  var text: String { String(decoding: body, as: UTF8.self) }

  /// The body as a JSON object (empty when it is not one).
  var json: [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
  }
}

/// A minimal HTTP/1.1 client: one request per connection (`Connection: close`).
enum HTTPClient {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// Sends a request to 127.0.0.1:`port` (or to the Unix socket `socketPath`);
  /// `sendBody: false` declares the body's length but sends none of it (to see that the
  /// server answers without reading it).
  static func request(
    port: Int, socketPath: String? = nil, _ method: String, _ path: String,
    token: String? = nil, headers: [String: String] = [:], body: [UInt8] = [],
    sendBody: Bool = true, timeout: Int = 60
  ) throws -> HTTPReply {
    let fd = socket(socketPath == nil ? AF_INET : AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
    defer { close(fd) }
    var time = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    guard connect(fd, port: port, socketPath: socketPath) == 0 else {
      throw Failure(description: "connect to \(socketPath ?? "port \(port)"): \(errno)")
    }
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    if let token { head += "Authorization: Bearer \(token)\r\n" }
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if headers["Content-Length"] == nil, method != "GET" || !body.isEmpty {
      head += "Content-Length: \(body.count)\r\n"
    }
    head += "\r\n"
    try send(fd, Array(head.utf8) + (sendBody ? body : []))
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = recv(fd, &chunk, chunk.count, 0)
      if n == 0 { break }
      if n < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK {
          throw Failure(description: "\(method) \(path): no reply within \(timeout) s")
        }
        if errno == ECONNRESET, !received.isEmpty { break }
        throw Failure(description: "\(method) \(path): recv error \(errno)")
      }
      received += chunk[0..<n]
    }
    return try parse(received, what: "\(method) \(path)")
  }

  /// Connects `fd` to 127.0.0.1:`port`, or to the Unix socket at `socketPath`.
  static func connect(_ fd: Int32, port: Int, socketPath: String?) -> Int32 {
    if let socketPath {
      var address = sockaddr_un()
      address.sun_family = sa_family_t(AF_UNIX)
      withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: socketPath.utf8) }
      return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
      }
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
  }

  static func send(_ fd: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
      // MSG_NOSIGNAL: a send to a connection the service closed is an error, not SIGPIPE.
      let n = bytes[offset...].withUnsafeBytes {
        Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw Failure(description: "send error \(errno)")
      }
      offset += n
    }
  }

  static func parse(_ bytes: [UInt8], what: String) throws -> HTTPReply {
    let separator: [UInt8] = [13, 10, 13, 10]
    guard let end = (0..<max(0, bytes.count - 3)).first(where: {
      Array(bytes[$0..<$0 + 4]) == separator
    }) else { throw Failure(description: "\(what): no complete reply (\(bytes.count) bytes)") }
    let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
    let statusParts = lines[0].split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
      throw Failure(description: "\(what): bad status line \(lines[0])")
    }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
        .trimmingCharacters(in: .whitespaces)
    }
    var body = Array(bytes[(end + 4)...])
    if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
    return HTTPReply(status: status, headers: headers, body: body)
  }

  static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
      var j = i
      while j + 1 < bytes.count, !(bytes[j] == 13 && bytes[j + 1] == 10) { j += 1 }
      let size = Int(String(decoding: bytes[i..<j], as: UTF8.self), radix: 16) ?? 0
      if size == 0 { break }
      out += bytes[(j + 2)..<min(bytes.count, j + 2 + size)]
      i = j + 2 + size + 2
    }
    return out
  }
}

// MARK: - The server process

/// `csar serve` started on an ephemeral port, its output in files.
final class ServerProcess: @unchecked Sendable {
  let pid: pid_t
  let port: Int
  /// The Unix socket it listens on instead of a port.
  let socketPath: String?
  let outPath: String
  let errPath: String

  /// Starts `csar serve --listen 127.0.0.1:0 ARGUMENTS` (or `--socket SOCKETPATH`; with
  /// `XDG_CONFIG_HOME` set to `configHome`) and waits for its listening line.
  init(
    _ arguments: [String], configHome: String, socketPath: String? = nil,
    timeout: Double = 180
  ) throws {
    outPath = try ScratchSpace.path("serve.out")
    errPath = try ScratchSpace.path("serve.err")
    let listen = socketPath.map { ["--socket", $0] } ?? ["--listen", "127.0.0.1:0"]
    let argv = [try CsarBinary.path, "serve"] + listen + arguments
    let pid = try Subprocess.spawn(
      argv, out: outPath, err: errPath, overrides: ["XDG_CONFIG_HOME": configHome])
    self.pid = pid
    let deadline = Date().addingTimeInterval(timeout)
    var found: Int?
    while Date() < deadline {
      let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
      if let socketPath, out.contains("listening on unix:" + socketPath + " ") {
        found = 0
        break
      }
      if let range = out.range(of: "listening on http://127.0.0.1:") {
        let digits = out[range.upperBound...].prefix { $0.isNumber }
        found = Int(digits)
        break
      }
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid {
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        throw HTTPClient.Failure(description: "csar serve exited at start: \(err)")
      }
      usleep(50_000)
    }
    guard let found else {
      kill(pid, SIGKILL)
      throw HTTPClient.Failure(description: "csar serve did not start within \(timeout) s")
    }
    port = found
    self.socketPath = socketPath
  }

  /// Sends `signal` and waits for the exit; returns the exit status (128 + signal if killed).
  @discardableResult
  func stop(_ signal: Int32 = SIGTERM) -> Int32 {
    kill(pid, signal)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
  }

  var log: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

  func request(
    _ method: String, _ path: String, token: String?, headers: [String: String] = [:],
    body: [UInt8] = [], sendBody: Bool = true
  ) throws -> HTTPReply {
    try HTTPClient.request(
      port: port, socketPath: socketPath, method, path, token: token, headers: headers,
      body: body, sendBody: sendBody)
  }

  /// A JSON request with the token.
  func json(_ method: String, _ path: String, token: String, _ text: String) throws
    -> HTTPReply
  {
    try request(
      method, path, token: token, headers: ["Content-Type": "application/json"],
      body: Array(text.utf8))
  }

  deinit {
    var status: Int32 = 0
    if waitpid(pid, &status, WNOHANG) == 0 {
      kill(pid, SIGKILL)
      waitpid(pid, &status, 0)
    }
    try? FileManager.default.removeItem(atPath: outPath)
    try? FileManager.default.removeItem(atPath: errPath)
  }
}

// MARK: - A kept-alive connection

/// One HTTP/1.1 connection kept open across requests (as a provider's upload workers and
/// wrk use the service), with requests written whole, in parts, or several at once.
final class KeptAliveConnection {
  let fd: Int32
  private var pending: [UInt8] = []

  init(port: Int, timeout: Int = 60) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HTTPClient.Failure(description: "socket: \(errno)") }
    var time = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    guard HTTPClient.connect(fd, port: port, socketPath: nil) == 0 else {
      close(fd)
      throw HTTPClient.Failure(description: "connect to port \(port): \(errno)")
    }
  }

  deinit { close(fd) }

  /// A request's bytes (keep-alive), with `Content-Length` when it has a body or is a POST.
  static func request(
    _ method: String, _ path: String, token: String?, headers: [String: String] = [:],
    body: String = ""
  ) -> [UInt8] {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if let token { head += "Authorization: Bearer \(token)\r\n" }
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
      head += "\(name): \(value)\r\n"
    }
    if headers["Content-Length"] == nil, method != "GET" || !body.isEmpty {
      head += "Content-Length: \(body.utf8.count)\r\n"
    }
    return Array((head + "\r\n" + body).utf8)
  }

  func send(_ bytes: [UInt8]) throws { try HTTPClient.send(fd, bytes) }

  /// The next reply (its body by `Content-Length`, as every reply of the service has one).
  func reply() throws -> HTTPReply {
    while true {
      if let end = headEnd() {
        let head = try HTTPClient.parse(Array(pending[..<(end + 4)]), what: "reply")
        let length = Int(head.headers["content-length"] ?? "0") ?? 0
        if pending.count >= end + 4 + length {
          let body = Array(pending[(end + 4)..<(end + 4 + length)])
          pending.removeFirst(end + 4 + length)
          return HTTPReply(status: head.status, headers: head.headers, body: body)
        }
      }
      var chunk = [UInt8](repeating: 0, count: 65536)
      let n = recv(fd, &chunk, chunk.count, 0)
      if n < 0, errno == EINTR { continue }
      guard n > 0 else {
        throw HTTPClient.Failure(
          description: n == 0 ? "connection closed" : "no reply (recv error \(errno))")
      }
      pending += chunk[0..<n]
    }
  }

  /// Whether the server closed the connection (reads until end of file or `seconds`).
  func isClosed(within seconds: Int) -> Bool {
    var time = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = recv(fd, &chunk, chunk.count, 0)
      if n < 0, errno == EINTR { continue }
      return n == 0 || (n < 0 && errno == ECONNRESET)
    }
  }

  private func headEnd() -> Int? {
    guard pending.count >= 4 else { return nil }
    return (0...(pending.count - 4)).first {
      pending[$0] == 13 && pending[$0 + 1] == 10 && pending[$0 + 2] == 13
        && pending[$0 + 3] == 10
    }
  }
}
