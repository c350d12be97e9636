import Foundation
import KlaxonServer
import Logging
import Testing

@Suite struct StandardErrorLogHandlerTests {
    /// The lines read from a pipe the handler writes to.
    private func lines(requestID: String? = "r1", _ body: (Logger) -> Void) -> [String] {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let writer = LogLineWriter(fileDescriptor: descriptors[1])
        var logger = Logger(label: "klaxon") { StandardErrorLogHandler(label: $0, level: .info, writer: writer) }
        if let requestID { logger[metadataKey: "request"] = "\(requestID)" }
        body(logger)
        writer.flush()
        close(descriptors[1])
        let data = FileHandle(fileDescriptor: descriptors[0], closeOnDealloc: true).readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func writesStreamLogHandlersLineFormat() {
        let lines = lines { logger in
            logger.info("incident opened", metadata: ["incident": "7"])
            logger.debug("not shown")
            logger.warning("plain")
        }
        #expect(lines.count == 2)
        let pattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info klaxon: incident=7 request=r1 \[KlaxonServerTests\] incident opened$/
        #expect(lines.first?.wholeMatch(of: pattern) != nil, "\(lines)")
        #expect(lines.last?.hasSuffix(" warning klaxon: request=r1 [KlaxonServerTests] plain") == true, "\(lines)")
    }

    /// A line's own metadata alone (the engine's logger has none of its own) is written as
    /// it is with one key, and sorted with more.
    @Test func writesALinesOwnMetadataAloneSorted() {
        let lines = lines(requestID: nil) { logger in
            logger.info("incident opened", metadata: ["incident": "7"])
            logger.info("call placed", metadata: ["to": "+86137****0001", "call": "c1", "incident": "7"])
        }
        #expect(lines.count == 2)
        #expect(lines.first?.hasSuffix(" info klaxon: incident=7 [KlaxonServerTests] incident opened") == true, "\(lines)")
        #expect(lines.last?.hasSuffix(" info klaxon: call=c1 incident=7 to=+86137****0001 [KlaxonServerTests] call placed") == true, "\(lines)")
    }

    /// Metadata set key by key (the first kept apart from the rest) reads back and prints
    /// like a dictionary's: replaced, removed and replaced wholesale.
    @Test func keepsMetadataSetKeyByKey() {
        var handler = StandardErrorLogHandler(label: "klaxon", level: .info)
        handler[metadataKey: "request"] = "r1"
        handler[metadataKey: "input"] = "am"
        #expect(handler.metadata == ["request": "r1", "input": "am"])
        handler[metadataKey: "request"] = "r2"
        #expect(handler[metadataKey: "request"] == "r2")
        handler[metadataKey: "request"] = nil
        #expect(handler.metadata == ["input": "am"])
        handler[metadataKey: "route"] = "db"
        #expect(handler.metadata == ["input": "am", "route": "db"])
        handler.metadata = ["only": "1"]
        #expect(handler[metadataKey: "input"] == nil)
        handler[metadataKey: "next"] = "2"
        #expect(handler.metadata == ["only": "1", "next": "2"])

        let lines = lines(requestID: "r9") { logger in
            var logger = logger
            logger[metadataKey: "input"] = "am"
            logger.info("received", metadata: ["alerts": "3"])
        }
        #expect(lines.first?.hasSuffix(" info klaxon: alerts=3 input=am request=r9 [KlaxonServerTests] received") == true, "\(lines)")
    }
}
