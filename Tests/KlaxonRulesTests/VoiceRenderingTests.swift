import Foundation
import KlaxonCore
import KlaxonRules
import Testing

@Suite struct VoiceRenderingTests {
    static let rules = """
        providers:
          ali: {type: aliyun, access_key_id: id, access_key_secret: secret}
          ali-tts: {type: aliyun, access_key_id: id, access_key_secret: secret}
          hw: {type: huawei-aicc, app_key: k, app_secret: s}
          hw1: {type: huawei-aicc, app_key: k, app_secret: s, api_version: v1}
          bt: {type: bitel, token: t}
          inf: {type: infin8linx, appid: a, accesskey: k, nationcode: in}
          chat: {type: webhook, url: "https://chat.example.com/x", body: '{{#recipients}}{{name}}:{{phone}};{{/recipients}} {{labels.instance}}'}
          sim: {type: simulator}
        recipients:
          alice: {phone: "+8613700000001"}
        voices:
          down:
            text: "{{labels.instance}} is down"
            params: ["{{labels.instance}}", "{{severity}}"]
            aliyun: {voice_code: v.wav}
            ali-tts: {tts_code: TTS_1, tts_params: {host: "{{labels.instance}}"}}
            huawei-aicc:
              play_list:
                - voice_id: "1133"
                - template_id: "t1"
            hw1:
              play_list:
                - voice_id: "1133"
                - text: "{{labels.instance}}"
            bitel: {voice_id: 08e815cbcd724386805103ac0d45e4c2}
            infin8linx: {voice_file: down.wav}
        escalations:
          e: {steps: [{after: 0s, notify: [alice]}]}
        routes:
          - voice: down
            escalation: e
            providers: [ali, ali-tts, hw, hw1, bt, inf, chat, sim]
        """

    func render(_ provider: String, params: [String]? = nil) throws -> RenderedVoice {
        let repo = try repository(Self.rules)
        let context = ParamRenderer.context(for: alert(["instance": "db-1"]), severity: "critical", count: 1, route: "r")
        let voice = try #require(repo.voices["down"])
        let config = try #require(repo.provider(named: provider))
        return try #require(ParamRenderer.render(voice, for: config, context: context, params: params))
    }

    @Test func eachVendorGetsItsOwnPrompt() throws {
        #expect(try render("ali").prompt == .aliyunVoice(voiceCode: "v.wav"))
        #expect(try render("ali-tts").prompt == .aliyunTTS(ttsCode: "TTS_1", params: ["host": "db-1"]))
        #expect(try render("hw").prompt == .huaweiAICC(playList: [.voiceID("1133"), .template(id: "t1", params: ["db-1", "critical"])]))
        #expect(try render("hw1").prompt == .huaweiV1(voiceContent: "1133~$db-1$"))
        #expect(try render("bt").prompt == .bitel(voiceID: "08e815cbcd724386805103ac0d45e4c2"))
        #expect(try render("inf").prompt == .infin8linx(voiceFile: "down.wav", voiceType: 1))
        #expect(try render("sim").prompt == .text("db-1 is down"))
        #expect(try render("sim").params == ["db-1", "critical"])
    }

    @Test func explicitParamsReplaceTheVoicesOwn() throws {
        #expect(
            try render("hw", params: ["x", "y", "z"]).prompt
                == .huaweiAICC(playList: [.voiceID("1133"), .template(id: "t1", params: ["x", "y", "z"])])
        )
    }

    @Test func webhookBodiesSeeTheRecipients() throws {
        let repo = try repository(Self.rules)
        let context = ParamRenderer.context(for: alert(["instance": "db-1"]), severity: "critical", count: 1, route: "r")
        let body = ParamRenderer.webhookBody(
            repo.webhookBodies["chat"],
            context: context,
            recipients: [CallRecipient(name: "alice", phone: "+8613700000001")]
        )
        #expect(body == "alice:+8613700000001; db-1")
    }

    /// A JSON body escapes what `{{x}}` puts in: a quote, backslash or line break in a label
    /// or annotation made the document invalid, and the vendor refused the page. A body of
    /// another content type is left as written.
    @Test func aJSONBodyEscapesWhatItPutsIn() throws {
        let rules = #"""
            providers:
              chat: {type: webhook, url: "https://chat.example.com/x", body: '{"text": "{{labels.instance}}: {{annotations.summary}}", "raw": {{{labels.n}}}}'}
              form: {type: webhook, url: "https://chat.example.com/y", content_type: text/plain, body: '{{labels.instance}}'}
            recipients:
              alice: {phone: "+8613700000001"}
            voices:
              down: {text: "down"}
            escalations:
              e: {steps: [{after: 0s, notify: [alice]}]}
            routes:
              - {voice: down, escalation: e, providers: [chat, form]}
            """#
        let repo = try repository(rules)
        var down = alert(["instance": #"C:\db "1""#, "n": "42"])
        down.annotations = ["summary": "disk full\n\tsee runbook\u{1}"]
        let context = ParamRenderer.context(for: down, severity: "critical", count: 1, route: "r")
        let body = try #require(ParamRenderer.webhookBody(repo.webhookBodies["chat"], context: context, recipients: []))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body)")
        #expect(object["text"] as? String == #"C:\db "1": "# + "disk full\n\tsee runbook\u{1}")
        #expect(object["raw"] as? Int == 42)
        #expect(ParamRenderer.webhookBody(repo.webhookBodies["form"], context: context, recipients: []) == #"C:\db "1""#)
    }
}
