// The service's description and secrets: the OpenAPI document matches the routes the service
// registers, and the token file is made private and refused when it is not.

import Foundation
import Testing
import TestSupport

@testable import Moderation
@testable import Service
@testable import Store

@Suite("Service: OpenAPI document and token file")
struct ServiceTests {
  /// (method, path) of every operation in the shipped OpenAPI document.
  static func documented() throws -> Set<RouteEntry> {
    let bytes = try CSARServer.openAPIDocument()
    let root = try #require(
      try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    #expect(root["openapi"] as? String == "3.1.0")
    let paths = try #require(root["paths"] as? [String: [String: Any]])
    var out: Set<RouteEntry> = []
    for (path, operations) in paths {
      for method in operations.keys where ["get", "post", "put", "delete"].contains(method) {
        out.insert(RouteEntry(method: method.uppercased(), path: path))
      }
    }
    return out
  }

  @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
    let routes = try CSARServer.routeTable(database: AppDatabase.inMemory())
    #expect(routes.count == Set(routes).count, "no route is registered twice")
    let documented = try Self.documented()
    #expect(Set(routes).subtracting(documented).isEmpty, "routes missing from openapi.json")
    #expect(documented.subtracting(routes).isEmpty, "openapi.json names routes that do not exist")
    #expect(documented.count == 9)
  }

  /// `/v1/scan` documents exactly the content types it accepts (WebP, GIF, BMP, TIFF and
  /// HEIF/AVIF among them).
  @Test func theScanRouteDocumentsTheImageTypesItAccepts() throws {
    let bytes = try CSARServer.openAPIDocument()
    let root = try #require(
      try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    let paths = try #require(root["paths"] as? [String: Any])
    let scan = try #require((paths["/v1/scan"] as? [String: Any])?["post"] as? [String: Any])
    let body = try #require(scan["requestBody"] as? [String: Any])
    let content = try #require(body["content"] as? [String: Any])
    #expect(Set(content.keys) == Routes.uploadTypes)
    for type in ["image/webp", "image/gif", "image/bmp", "image/tiff", "image/heic", "image/avif"] {
      #expect(Routes.imageTypes.contains(type), "\(type)")
    }
    // Videos too (before: a video/mp4 upload was refused with 415).
    for type in ["video/mp4", "video/quicktime", "video/webm", "video/x-matroska"] {
      #expect(Routes.uploadTypes.contains(type), "\(type)")
    }
  }

  @Test func everyDocumentedOperationDeclaresUnauthorizedAndItsReferencesResolve() throws {
    let bytes = try CSARServer.openAPIDocument()
    let text = String(decoding: bytes, as: UTF8.self)
    let root = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    let paths = try #require(root["paths"] as? [String: [String: [String: Any]]])
    for (path, operations) in paths {
      for (method, operation) in operations {
        let responses = try #require(operation["responses"] as? [String: Any])
        #expect(responses["401"] != nil, "\(method) \(path) must document 401")
        #expect(responses["200"] != nil, "\(method) \(path) must document 200")
      }
    }
    let components = try #require(root["components"] as? [String: [String: Any]])
    var rest = Substring(text)
    while let range = rest.range(of: "\"#/components/") {
      let tail = rest[range.upperBound...]
      let end = try #require(tail.firstIndex(of: "\""))
      let parts = tail[..<end].split(separator: "/").map(String.init)
      #expect(components[parts[0]]?[parts[1]] != nil, "unresolved reference \(parts)")
      rest = tail[end...]
    }
  }

  @Test func theDocumentNamesEveryHashTypeAndDigestTheServiceAnswers() throws {
    let bytes = try CSARServer.openAPIDocument()
    let root = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    let schemas = try #require(
      (root["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
    func properties(_ name: String) -> [String: [String: Any]] {
      schemas[name]?["properties"] as? [String: [String: Any]] ?? [:]
    }
    let matchTypes = properties("Match")["type"]?["enum"] as? [String] ?? []
    #expect(Set(matchTypes) == Set(BankHashType.allCases.map(\.rawValue)))
    let queryTypes = properties("HashQuery")["type"]?["enum"] as? [String] ?? []
    #expect(Set(queryTypes) == Set(LookupHashType.allCases.map(\.rawValue)))
    // Every key of a scanned file's reply is described.
    var outcome = ScanOutcome(input: "upload", isURL: false, decision: .allowed)
    outcome.sha256 = ""
    let reply = try #require(
      try JSONSerialization.jsonObject(with: Data(outcome.jsonLine.utf8)) as? [String: Any])
    #expect(reply["sha1"] != nil)
    #expect(Set(reply.keys).subtracting(properties("ScanOutcome").keys).isEmpty)
  }

  @Test func theTokenFileIsCreatedPrivateAndRefusedWhenOthersCanReadIt() throws {
    let folder = try ScratchSpace.path("token")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = ServiceToken.defaultPath(keyPath: folder + "/csar.key")
    #expect(path == folder + "/service.token")
    let token = try ServiceToken.loadOrCreate(path: path)
    #expect(token.value.count == 64)
    let mode = try #require(
      try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    #expect(mode == 0o600)
    #expect(try ServiceToken.loadOrCreate(path: path).value == token.value, "kept, not renewed")
    #expect(token.accepts(token.value))
    #expect(!token.accepts(String(token.value.dropLast()) + "x"))
    #expect(!token.accepts(""))

    chmod(path, 0o644)
    do {
      _ = try ServiceToken.loadOrCreate(path: path)
      Issue.record("a token file others can read must be refused")
    } catch {
      guard case .file(.tooOpen(let where_, _, let mode, _)) = error else {
        Issue.record("expected a refusal of the file's mode, got \(error)")
        return
      }
      #expect(where_ == path && mode == 0o644)
      #expect(error.description.contains("service token"))
      #expect(error.description.contains("chmod 600 \(path)"), "\(error)")
    }
  }

  @Test func listenAddressesParseAndBadOnesNameTheOption() throws {
    #expect(try ServiceSettings.Listen(parsing: "127.0.0.1:0") == .tcp(host: "127.0.0.1", port: 0))
    #expect(try ServiceSettings.Listen(parsing: "[::1]:8480") == .tcp(host: "::1", port: 8480))
    for bad in ["localhost", ":80", "host:99999", "host:x"] {
      #expect(throws: ServiceSettingsError.self) { try ServiceSettings.Listen(parsing: bad) }
    }
  }
}
