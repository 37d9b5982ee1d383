// swift-tools-version:6.1
// csar: a keyboard-driven terminal console for CSA Regulation compliance work.
import PackageDescription

let package = Package(
  name: "csar",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "csar", targets: ["csar"])
  ],
  dependencies: [
    .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    // The service (`csar serve`): HTTP on SwiftNIO, graceful shutdown, logs and metrics.
    // Hummingbird's default traits pull in swift-configuration, which csar does not use.
    .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
    .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
    .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
    // HTTP parts as swift-http-types (what Hummingbird's HTTP/1.1 pipeline carries).
    .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
  ],
  targets: [
    // MARK: - C shims (only where Swift cannot import a macro or must survive setjmp)
    .systemLibrary(
      name: "CNCurses",
      pkgConfig: "ncursesw",
      providers: [.apt(["libncurses-dev"])]
    ),
    // Image formats beyond PNG and JPEG, read by CImageCodecs (its formats.c).
    .systemLibrary(name: "CWebP", pkgConfig: "libwebpdemux", providers: [.apt(["libwebp-dev"])]),
    .systemLibrary(name: "CGIF", pkgConfig: "libgif", providers: [.apt(["libgif-dev"])]),
    .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
    .systemLibrary(name: "CHEIF", pkgConfig: "libheif", providers: [.apt(["libheif-dev"])]),
    .target(
      name: "CImageCodecs",
      dependencies: ["CWebP", "CGIF", "CTIFF", "CHEIF"],
      cSettings: [.unsafeFlags(["-O2"])],
      linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
    ),
    // SQLite's process-wide settings (sqlite3_config is variadic, out of Swift's reach).
    .target(name: "CSQLiteTuning", linkerSettings: [.linkedLibrary("sqlite3")]),
    // A cache-line prefetch the PDQ index's query asks for (Swift has none).
    .target(name: "CPrefetch"),
    .target(
      name: "CVideoCodecs",
      cSettings: [.unsafeFlags(["-O2"])],
      linkerSettings: [
        .linkedLibrary("avformat"), .linkedLibrary("avcodec"), .linkedLibrary("swscale"),
        .linkedLibrary("avutil"),
      ]
    ),

    // MARK: - Text safety (the one sanitiser for terminal text; no dependencies)
    .target(name: "TextSafety"),
    // The folder of a path on String alone (no NSString path calls; no dependencies).
    .target(name: "PathText"),
    // The one posix_spawn routine (benchmarks and end-to-end tests; no dependencies).
    .target(name: "ProcessSpawn"),

    // MARK: - Domain (no I/O)
    .target(name: "Compliance"),

    // MARK: - Infrastructure
    .target(
      name: "Store",
      dependencies: [
        "Compliance", "TextSafety", "PathText", "CSQLiteTuning",
        .product(name: "GRDB", package: "GRDB.swift"),
        // The SQLite C API, for bulk loops (BulkStatement.swift).
        .product(name: "GRDBSQLite", package: "GRDB.swift"),
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .target(name: "Terminal", dependencies: ["CNCurses", "TextSafety"]),
    .target(name: "Imaging", dependencies: ["CImageCodecs", "PathText"]),
    .target(name: "Video", dependencies: ["CVideoCodecs", "Imaging"]),
    .target(
      name: "Detection",
      dependencies: [
        "Imaging", "Video", "CPrefetch", .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .target(
      name: "Moderation",
      dependencies: ["Compliance", "Store", "Detection", "Imaging", "Video", "TextSafety"]),

    // The demo's synthetic pictures (`csar demo`, first start, benchmarks) and file-size text.
    .target(name: "DemoPictures", dependencies: ["Detection", "Imaging", "Store"]),

    // MARK: - Service (`csar serve`)
    .target(
      name: "Service",
      dependencies: [
        "Compliance", "Store", "Imaging", "Video", "Detection", "Moderation",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      resources: [.copy("openapi.json")]
    ),

    // MARK: - Benchmarks (`csar bench …`: the figures, their options and the `bench all` table)
    .target(
      name: "Benchmarks",
      dependencies: [
        "Compliance", "Store", "Detection", "Imaging", "Video", "Moderation", "ConsoleUI",
        "Terminal", "DemoPictures", "ProcessSpawn",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "GRDB", package: "GRDB.swift"),
      ]
    ),

    // MARK: - Console
    .target(
      name: "ConsoleUI",
      dependencies: [
        "Compliance", "Store", "Terminal", "Imaging", "Detection", "Video",
      ],
      resources: []
    ),

    // MARK: - Executable
    .executableTarget(
      name: "csar",
      dependencies: [
        "Compliance", "Store", "Terminal", "ConsoleUI", "Imaging", "Detection", "Video",
        "Moderation", "TextSafety", "Service", "Benchmarks", "DemoPictures",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "GRDB", package: "GRDB.swift"),
      ]
    ),

    // MARK: - Tests
    // Scratch folders for the tests, removed when the test process ends.
    .target(name: "TestSupport", path: "Tests/Support/TestSupport"),
    .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"]),
    .testTarget(name: "ComplianceTests", dependencies: ["Compliance"]),
    .testTarget(name: "PathTextTests", dependencies: ["PathText"]),
    .testTarget(name: "ProcessSpawnTests", dependencies: ["ProcessSpawn", "TestSupport"]),
    .testTarget(name: "StoreTests", dependencies: ["Store", "Compliance", "TestSupport"]),
    .testTarget(name: "TerminalTests", dependencies: ["Terminal", "TextSafety"]),
    .testTarget(
      name: "ConsoleUITests",
      dependencies: [
        "ConsoleUI", "Store", "Terminal", "Compliance", "Imaging", "Detection", "TestSupport",
        .product(name: "GRDB", package: "GRDB.swift"),
      ],
      exclude: ["__Snapshots__"]
    ),
    .testTarget(
      name: "DetectionTests", dependencies: ["Detection", "Imaging", "TestSupport"],
      // Image-format fixtures (read by path) and the script and encoder that make them.
      exclude: ["Fixtures/images"]),
    .testTarget(
      name: "VideoTests",
      dependencies: [
        "Video", "Detection", "Imaging", "Moderation", "Store", "Compliance", "TestSupport",
        .product(name: "GRDB", package: "GRDB.swift"),
      ]),
    .testTarget(name: "EndToEndTests", dependencies: ["ProcessSpawn", "TestSupport"]),
    .testTarget(
      name: "FuzzTests",
      dependencies: [
        "Imaging", "Video", "Compliance", "Moderation", "Store", "ConsoleUI", "TestSupport",
      ]),
    .testTarget(
      name: "ServiceTests",
      dependencies: [
        "Service", "Moderation", "Store", "Detection", "Compliance", "TestSupport",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]),
    .testTarget(
      name: "BenchmarksTests", dependencies: ["Benchmarks", "TestSupport"],
      // A report of a real fixed-rate run, read by path.
      exclude: ["Fixtures"]),
    .testTarget(
      name: "ModerationTests",
      dependencies: [
        "Moderation", "Store", "Detection", "Imaging", "Compliance", "TestSupport",
      ]),
  ]
)
