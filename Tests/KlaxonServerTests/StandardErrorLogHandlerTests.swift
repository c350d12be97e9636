import Foundation
import KlaxonServer
import Logging
import Testing

@Suite struct StandardErrorLogHandlerTests {
    /// The lines read from a pipe the handler writes to.
    private func lines(_ body: (Logger) -> Void) -> [String] {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let writer = LogLineWriter(fileDescriptor: descriptors[1])
        var logger = Logger(label: "klaxon") { StandardErrorLogHandler(label: $0, level: .info, writer: writer) }
        logger[metadataKey: "request"] = "r1"
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
}
