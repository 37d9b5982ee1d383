// Per-request context: Hummingbird's core storage plus notes the access log reads afterwards.

import Hummingbird
import Synchronization

/// What a handler tells the access log about its request (a shared box: the context itself
/// is copied on its way through the middleware).
final class RequestNotes: Sendable {
  private let values = Mutex<[String: String]>([:])

  func set(_ key: String, _ value: String) { values.withLock { $0[key] = value } }

  var all: [String: String] { values.withLock { $0 } }
}

/// The request context of the service.
struct ServiceContext: RequestContext {
  var coreContext: CoreRequestContextStorage
  let notes = RequestNotes()

  init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
  }
}
