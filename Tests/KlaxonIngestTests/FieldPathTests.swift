import Testing

@testable import KlaxonIngest

@Suite struct FieldPathTests {
    /// The error for a path text, failing the test when it parses.
    private func failure(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> IngestError? {
        do {
            let path = try FieldPath.parse(text)
            Issue.record("parsed as \(path)", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.code == .invalidFieldPath, sourceLocation: sourceLocation)
            #expect(error.subject == text, sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func jsonPointers() throws {
        #expect(try FieldPath.parse("/alerts/0/labels") == FieldPath([.key("alerts"), .key("0"), .key("labels")]))
        #expect(try FieldPath.parse("/a~1b/c~0d/~01") == FieldPath([.key("a/b"), .key("c~d"), .key("~1")]))
        #expect(try FieldPath.parse("/") == FieldPath([.key("")]))
        #expect(try FieldPath.parse("/a//b") == FieldPath([.key("a"), .key(""), .key("b")]))
        #expect(try FieldPath.parse("$/commonLabels/team") == FieldPath([.key("commonLabels"), .key("team")], isRooted: true))
        #expect(try FieldPath.parse("/a.b[0]") == FieldPath([.key("a.b[0]")]))
    }

    @Test func dottedPaths() throws {
        #expect(try FieldPath.parse("labels.severity") == FieldPath([.key("labels"), .key("severity")]))
        #expect(try FieldPath.parse("alerts[0].name") == FieldPath([.key("alerts"), .index(0), .key("name")]))
        #expect(try FieldPath.parse("alerts.0.name") == FieldPath([.key("alerts"), .key("0"), .key("name")]))
        #expect(try FieldPath.parse(#"labels["a.b"]"#) == FieldPath([.key("labels"), .key("a.b")]))
        #expect(try FieldPath.parse("labels['a.b'].c") == FieldPath([.key("labels"), .key("a.b"), .key("c")]))
        #expect(try FieldPath.parse(#"x["say \"hi\"\\"]"#) == FieldPath([.key("x"), .key(#"say "hi"\"#)]))
        #expect(try FieldPath.parse("matrix[1][2]") == FieldPath([.key("matrix"), .index(1), .index(2)]))
        #expect(try FieldPath.parse("event-id") == FieldPath([.key("event-id")]))
        #expect(try FieldPath.parse("键.值") == FieldPath([.key("键"), .key("值")]))
    }

    @Test func rootedPaths() throws {
        #expect(try FieldPath.parse("$") == FieldPath.root)
        #expect(try FieldPath.parse("$.commonLabels.team") == FieldPath([.key("commonLabels"), .key("team")], isRooted: true))
        #expect(try FieldPath.parse("$[0]") == FieldPath([.index(0)], isRooted: true))
        #expect(try FieldPath.parse(#"$["a b"]"#) == FieldPath([.key("a b")], isRooted: true))
        #expect(try !FieldPath.parse("commonLabels").isRooted)
    }

    @Test func errorsGiveTheCharacterOffset() {
        let cases: [(String, Int, String)] = [
            ("", 0, "the path is empty"),
            ("a..b", 2, "empty key"),
            ("a.", 2, "expected a key after '.'"),
            (".a", 0, "empty key"),
            ("a.[0]", 2, "empty key"),
            ("a[", 1, "unterminated '['"),
            ("a[x]", 2, "expected an index or a quoted key after '['"),
            ("a[0", 3, "expected ']'"),
            (#"a["b"#, 2, "unterminated quoted key"),
            (#"a["b\n"]"#, 4, #"invalid escape in quoted key (use \\, \" or \')"#),
            ("a]", 1, "unexpected ']'"),
            ("a[0]b", 4, "unexpected 'b', expected '.' or '['"),
            ("$x", 1, "unexpected 'x', expected '.' or '['"),
            ("/a~2", 2, "'~' must be followed by '0' or '1' in a JSON pointer"),
            ("a[99999999999999999999]", 2, "index out of range"),
        ]
        for (text, offset, message) in cases {
            let error = failure(text)
            #expect(error?.offset == offset, "\(text)")
            #expect(error?.message == message, "\(text)")
        }
        #expect(failure("labels..x")?.description == #"invalid field path "labels..x" at character 7: empty key"#)
    }

    @Test func descriptionPrintsTheDottedFormAndReadsBack() throws {
        let cases: [(String, String)] = [
            ("/alerts/0/labels", #"alerts["0"].labels"#),
            ("labels.severity", "labels.severity"),
            ("alerts[3].labels.severity", "alerts[3].labels.severity"),
            ("$.commonLabels.team", "$.commonLabels.team"),
            ("$/commonLabels/team", "$.commonLabels.team"),
            ("$", "$"),
            ("$[2]", "$[2]"),
            (#"labels['a.b']"#, #"labels["a.b"]"#),
            (#"x["q\"uote"]"#, #"x["q\"uote"]"#),
            ("/a~1b", #"["a/b"]"#),
        ]
        for (text, printed) in cases {
            let path = try FieldPath.parse(text)
            #expect(path.description == printed, "\(text)")
            #expect(try FieldPath.parse(path.description) == path, "\(text)")
        }
    }

    @Test func resolving() throws {
        let value: JSONValue = ["alerts": [["name": "a"], ["name": "b", "n": 4]], "x": ["a.b": true]]
        #expect(try FieldPath.parse("alerts[1].name").resolve(in: value) == "b")
        #expect(try FieldPath.parse("/alerts/1/n").resolve(in: value) == 4)
        #expect(try FieldPath.parse("alerts.0.name").resolve(in: value) == "a")
        #expect(try FieldPath.parse(#"x["a.b"]"#).resolve(in: value) == true)
        #expect(try FieldPath.parse("alerts[2]").resolve(in: value) == nil)
        #expect(try FieldPath.parse("alerts.01").resolve(in: value) == nil)
        #expect(try FieldPath.parse("alerts[0].name.deeper").resolve(in: value) == nil)
        #expect(try FieldPath.parse("missing").resolve(in: value) == nil)
        #expect(FieldPath.root.resolve(in: value) == value)
    }
}
