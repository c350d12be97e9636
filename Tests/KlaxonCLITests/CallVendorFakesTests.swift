import Foundation
import Testing
import VendorFakes

/// `klaxon call` through each vendor's client against that vendor's loopback fake: the
/// binary a user runs, the vendor's wire format, the vendor's answer printed.
@Suite struct CallVendorFakesTests {
    func call(provider: String, to number: String, config providers: String, environment: [String: String]) async throws -> KlaxonProcess.Output {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-call-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in ["people.yaml", "voices.yaml", "escalations.yaml"] {
            try FileManager.default.copyItem(
                at: KlaxonProcess.packageRoot.appendingPathComponent("rules/\(file)"),
                to: directory.appendingPathComponent(file)
            )
        }
        try providers.write(to: directory.appendingPathComponent("providers.yaml"), atomically: true, encoding: .utf8)
        return try await KlaxonProcess.run(
            ["call", "--config", directory.path, "--provider", provider, "--to", number, "--voice", "db-down"],
            environment: environment
        )
    }

    @Test func aliyun() async throws {
        let fake = AliyunFake(credentials: ["LTAI-test": "aliyun-secret-value"])
        try await withFakeServer(fake.router()) { baseURL in
            let output = try await call(
                provider: "aliyun",
                to: "+8613700000009",
                config:
                    "providers:\n  aliyun: {type: aliyun, endpoint: \"\(baseURL)\", access_key_id: LTAI-test, access_key_secret: \"${ALIYUN_SECRET}\"}\n",
                environment: ["ALIYUN_SECRET": "aliyun-secret-value"]
            )
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
            #expect(output.stdout.contains("answer    accepted, vendor call id "))
            #expect(!(output.stdout + output.stderr).contains("aliyun-secret-value"))
        }
        #expect(await fake.acceptedCalls().count == 1)
    }

    @Test func aliyunWithAWrongSecretPrintsTheVendorsRefusal() async throws {
        let fake = AliyunFake(credentials: ["LTAI-test": "the-right-secret"])
        try await withFakeServer(fake.router()) { baseURL in
            let output = try await call(
                provider: "aliyun",
                to: "+8613700000009",
                config:
                    "providers:\n  aliyun: {type: aliyun, endpoint: \"\(baseURL)\", access_key_id: LTAI-test, access_key_secret: a-wrong-secret}\n",
                environment: [:]
            )
            #expect(output.status == 1)
            #expect(output.stdout.contains("answer    refused: HTTP 400 SignatureDoesNotMatch"))
            #expect(!(output.stdout + output.stderr).contains("a-wrong-secret"))
        }
    }

    @Test func huaweiAICC() async throws {
        let fake = HuaweiAICCFake(appKey: "app-key-1", appSecret: "huawei-secret-value")
        try await withFakeServer(fake.router()) { baseURL in
            let output = try await call(
                provider: "huawei",
                to: "+8613700000009",
                config: "providers:\n  huawei: {type: huawei-aicc, endpoint: \"\(baseURL)\", app_key: app-key-1, app_secret: huawei-secret-value}\n",
                environment: [:]
            )
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
            #expect(output.stdout.contains("answer    accepted, vendor call id "))
            #expect(!(output.stdout + output.stderr).contains("huawei-secret-value"))
        }
        #expect(await fake.tokenRequestCount() == 1)
        #expect(await fake.acceptedCalls().count == 1)
    }

    @Test func bitel() async throws {
        let fake = BitelFake(token: "bitel-token-value", voices: ["3b5d7f9a1c2e4f6a8b0d2f4a6c8e0b1d"])
        try await withFakeServer(fake.router()) { baseURL in
            let output = try await call(
                provider: "bitel",
                to: "+989120000009",
                config: "providers:\n  bitel: {type: bitel, endpoint: \"\(baseURL)\", token: bitel-token-value}\n",
                environment: [:]
            )
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
            #expect(output.stdout.contains("answer    accepted, vendor call id "))
            #expect(!(output.stdout + output.stderr).contains("bitel-token-value"))
        }
    }

    @Test func infin8linx() async throws {
        let fake = Infin8linxFake(appID: "APP-1", accessKey: "infin8linx-key-value")
        try await withFakeServer(fake.router()) { baseURL in
            let output = try await call(
                provider: "ivr",
                to: "+919812345678",
                config:
                    "providers:\n  ivr: {type: infin8linx, endpoint: \"\(baseURL)\(Infin8linxFake.path)\", appid: APP-1, accesskey: infin8linx-key-value, nationcode: in}\n",
                environment: [:]
            )
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
            #expect(output.stdout.contains("answer    accepted, vendor call id "))
            #expect(!(output.stdout + output.stderr).contains("infin8linx-key-value"))
        }
    }

    @Test func aNumberTheVendorCannotCallIsRefusedBeforeSending() async throws {
        let fake = BitelFake(token: "bitel-token-value")
        try await withFakeServer(fake.router()) { baseURL in
            let output = try await call(
                provider: "bitel",
                to: "+8613700000009",
                config: "providers:\n  bitel: {type: bitel, endpoint: \"\(baseURL)\", token: bitel-token-value}\n",
                environment: [:]
            )
            #expect(output.status == 1)
            #expect(output.stdout.contains("answer    refused: klaxon.number_unsupported"))
        }
        #expect(await fake.state.requests.isEmpty)
    }
}
