import Foundation
import NIOCore
import Testing

@testable import KlaxonEngine
@testable import KlaxonServer

@Suite struct IngestBodyTests {
    /// The webhook's answer, written byte by byte, is the JSON the API's encoder would
    /// write: keys sorted, ids in order, updated ids sorted.
    @Test func writesTheSummaryAsSortedJSON() throws {
        var summary = IngestSummary()
        summary.opened = [7, 12, 3]
        summary.updated = [9, 2]
        summary.resolved = [4]
        summary.deduplicated = 2
        summary.joinedStorm = 1
        summary.dropped = 5
        summary.unrouted = 6
        let body = IngestBody(alerts: 17, summary: summary).json
        let text = String(buffer: body)
        #expect(
            text
                == #"{"alerts":17,"deduplicated":3,"dropped":5,"opened":[7,12,3],"resolved":[4],"status":"accepted","unrouted":6,"updated":[2,9]}"#
        )
        let empty = String(buffer: IngestBody(alerts: 0, summary: IngestSummary()).json)
        #expect(empty == #"{"alerts":0,"deduplicated":0,"dropped":0,"opened":[],"resolved":[],"status":"accepted","unrouted":0,"updated":[]}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
    }
}
