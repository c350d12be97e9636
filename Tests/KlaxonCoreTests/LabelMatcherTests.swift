import KlaxonCore
import Testing

@Suite struct LabelMatcherTests {
    let labels: LabelSet = ["alertname": "Watchdog", "severity": "critical", "instance": "node1:9100", "empty": ""]

    @Test func equality() throws {
        #expect(try LabelMatcher(name: "alertname", type: .equal, value: "Watchdog").matches(labels))
        #expect(try !LabelMatcher(name: "alertname", type: .equal, value: "watchdog").matches(labels))
        #expect(try LabelMatcher(name: "severity", type: .notEqual, value: "page").matches(labels))
        #expect(try !LabelMatcher(name: "severity", type: .notEqual, value: "critical").matches(labels))
    }

    @Test func absentLabelIsEmpty() throws {
        #expect(try LabelMatcher(name: "foo", type: .equal, value: "").matches(labels))
        #expect(try !LabelMatcher(name: "foo", type: .notEqual, value: "").matches(labels))
        #expect(try LabelMatcher(name: "severity", type: .notEqual, value: "").matches(labels))
        // A label present with value "" is the same as absent.
        #expect(try LabelMatcher(name: "empty", type: .equal, value: "").matches(labels))
        #expect(try !LabelMatcher(name: "foo", type: .equal, value: "x").matches(labels))
        #expect(try LabelMatcher(name: "foo", type: .notEqual, value: "x").matches(labels))
        #expect(try LabelMatcher(name: "foo", type: .regexMatch, value: ".*").matches(labels))
        #expect(try !LabelMatcher(name: "foo", type: .regexMatch, value: ".+").matches(labels))
        #expect(try LabelMatcher(name: "foo", type: .regexNoMatch, value: ".+").matches(labels))
    }

    @Test func regexIsAnchoredAtBothEnds() throws {
        let b = try LabelMatcher(name: "a", type: .regexMatch, value: "b")
        #expect(b.matches(["a": "b"]))
        #expect(!b.matches(["a": "abc"]))
        #expect(!b.matches(["a": "ab"]))
        #expect(!b.matches(["a": "bc"]))
        let notB = try LabelMatcher(name: "a", type: .regexNoMatch, value: "b")
        #expect(notB.matches(["a": "abc"]))
        #expect(!notB.matches(["a": "b"]))
    }

    /// RE2's `.` matches anything but a newline; ICU's also misses `\r`, U+0085, U+2028 and
    /// U+2029. A value from a JSON sender ending in `\r` must still match `.*Disk.*`.
    @Test func dotMatchesWhatRE2sDotMatches() throws {
        let cases: [(pattern: String, value: String, matches: Bool)] = [
            (".*Disk.*", "Disk full\r", true),
            ("a.b", "a\u{2028}b", true),
            ("a.b", "a\u{85}b", true),
            ("a.b", "a\nb", false),
            ("a[.]b", "a.b", true),
            ("a[.]b", "axb", false),
            ("a\\.b", "axb", false),
            ("[]a.]+", "].a", true),
            ("[^]x]", ".", true),
            ("[[:alpha:].]+", "ab.", true),
            ("\\Qa.b\\E", "axb", false),
            ("\\Qa.b\\E", "a.b", true),
            ("(?s)a.b", "a\nb", true),
            ("(?is:A.B)", "a\nb", true),
            ("(?:a).b", "a\rb", true),
            ("(?:a).b", "a\nb", false),
            ("(?i)a.b", "A\rB", true),
        ]
        for (pattern, value, expected) in cases {
            let matcher = try LabelMatcher(name: "a", type: .regexMatch, value: pattern)
            #expect(matcher.matches(["a": value]) == expected, "\(pattern) on \(value.debugDescription)")
        }
    }

    @Test func regexDoesNotMatchBeforeTrailingNewline() throws {
        // ICU's $ would match before a final "\n"; Go's (Alertmanager's) does not.
        let matcher = try LabelMatcher(name: "a", type: .regexMatch, value: "b")
        #expect(!matcher.matches(["a": "b\n"]))
        let general = try LabelMatcher(name: "a", type: .regexMatch, value: "b+")
        #expect(!general.matches(["a": "bb\n"]))
        #expect(general.matches(["a": "bb"]))
    }

    @Test func anchoringWrapsAlternation() throws {
        // ^(?:a|b)$, not ^a|b$: "xb" must not match.
        let matcher = try LabelMatcher(name: "n", type: .regexMatch, value: "a.|.b")
        #expect(matcher.matches(["n": "ax"]))
        #expect(matcher.matches(["n": "xb"]))
        #expect(!matcher.matches(["n": "axb"]))
    }

    @Test(arguments: [
        ("critical|page", "critical", true),
        ("critical|page", "page", true),
        ("critical|page", "warning", false),
        ("critical|page", "critical|page", false),
        ("critical|page", "criticalpage", false),
        ("critical|", "", true),
        ("", "", true),
        ("", "x", false),
        (".+:9100", "node1:9100", true),
        (".+:9100", ":9100", false),
        (".+:9100", "node1:9101", false),
        ("5..", "503", true),
        ("5..", "5030", false),
        ("(?i)CRIT.*", "critical", true),
        ("\\d+", "123", true),
        ("[a-c]+", "abcd", false),
        ("a.c", "a\nc", false),
        ("(?s)a.c", "a\nc", true),
        ("é+", "éé", true),
    ])
    func regexMatching(pattern: String, value: String, expected: Bool) throws {
        let matcher = try LabelMatcher(name: "n", type: .regexMatch, value: pattern)
        #expect(matcher.matches(value: value) == expected)
        #expect(matcher.matches(["n": value]) == expected)
        let negated = try LabelMatcher(name: "n", type: .regexNoMatch, value: pattern)
        #expect(negated.matches(value: value) == !expected)
    }

    @Test func rejectsInvalidLabelName() {
        for name in ["1abc", "", "foo-bar", "a:b", "a b", "é"] {
            #expect(throws: MatcherError(message: "invalid label name \"\(name)\"", offset: 0)) {
                try LabelMatcher(name: name, type: .equal, value: "x")
            }
        }
        for name in ["a", "_", "A_1", "__name__", "abcXYZ_09"] {
            #expect(LabelMatcher.isValidLabelName(name))
        }
    }

    @Test(arguments: [
        ("(", "missing closing )"),
        ("(a|b", "missing closing )"),
        (")", "unexpected )"),
        ("a)(", "unexpected )"),
        ("a)|(b", "unexpected )"),
        ("[a", "missing closing ]"),
        ("[]a", "missing closing ]"),
        ("*", "missing argument to repetition operator *"),
        ("a|+", "missing argument to repetition operator +"),
        ("(?x", "missing closing )"),
        ("a**", "invalid nested repetition operator *"),
        ("a{2,1}", "invalid repeat count {2,1}"),
        ("a\\", "trailing backslash at end of expression"),
        ("(?P<x>a)", "write named groups as (?<name>…), not (?P<name>…)"),
    ])
    func rejectsBadRegex(pattern: String, reason: String) {
        let quoted = "\"" + pattern.replacingBackslashes() + "\""
        #expect(throws: MatcherError(message: "bad regex \(quoted): \(reason)", offset: 0)) {
            try LabelMatcher(name: "n", type: .regexMatch, value: pattern)
        }
        #expect(throws: MatcherError.self) {
            try LabelMatcher(name: "n", type: .regexNoMatch, value: pattern)
        }
    }

    @Test func badRegexIsFineForEqualityTypes() throws {
        #expect(try LabelMatcher(name: "n", type: .equal, value: "(").matches(["n": "("]))
        #expect(try LabelMatcher(name: "n", type: .notEqual, value: "(").matches(["n": "x"]))
    }

    @Test func description() throws {
        #expect(try LabelMatcher(name: "alertname", type: .equal, value: "Watchdog").description == #"alertname="Watchdog""#)
        #expect(try LabelMatcher(name: "a", type: .notEqual, value: "").description == #"a!="""#)
        #expect(try LabelMatcher(name: "a", type: .regexMatch, value: "x.*").description == #"a=~"x.*""#)
        #expect(try LabelMatcher(name: "a", type: .regexNoMatch, value: "\\d").description == #"a!~"\\d""#)
        #expect(try LabelMatcher(name: "q", type: .equal, value: "say \"hi\"\\\n").description == #"q="say \"hi\"\\\n""#)
    }

    @Test func equalityAndHashIgnoreCompiledRegex() throws {
        let one = try LabelMatcher(name: "a", type: .regexMatch, value: "b.*")
        let two = try LabelMatcher(name: "a", type: .regexMatch, value: "b.*")
        #expect(one == two)
        #expect(Set([one, two]).count == 1)
        #expect(try one != LabelMatcher(name: "a", type: .regexNoMatch, value: "b.*"))
        #expect(try one != LabelMatcher(name: "a", type: .equal, value: "b.*"))
    }

    @Test func isEquality() throws {
        #expect(try LabelMatcher(name: "a", type: .equal, value: "b").isEquality)
        for type in [LabelMatcher.MatchType.notEqual, .regexMatch, .regexNoMatch] {
            #expect(try !LabelMatcher(name: "a", type: type, value: "b").isEquality)
        }
    }

    @Test func sendableAcrossTasks() async throws {
        let matcher = try LabelMatcher(name: "severity", type: .regexMatch, value: "crit.*")
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask { matcher.matches(["severity": "critical"]) }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}

extension String {
    fileprivate func replacingBackslashes() -> String {
        var out = ""
        for character in self {
            out += character == "\\" ? "\\\\" : String(character)
        }
        return out
    }
}
