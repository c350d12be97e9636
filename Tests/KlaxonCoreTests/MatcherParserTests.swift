import KlaxonCore
import Testing

@Suite struct MatcherParserTests {
    private func matcher(_ name: String, _ type: LabelMatcher.MatchType, _ value: String) throws -> LabelMatcher {
        try LabelMatcher(name: name, type: type, value: value)
    }

    // MARK: Single matchers (examples from Alertmanager's docs and configs)

    @Test func alertmanagerExamples() throws {
        #expect(try MatcherParser.parseMatcher(#"alertname="Watchdog""#) == matcher("alertname", .equal, "Watchdog"))
        #expect(try MatcherParser.parseMatcher(#"severity=~"critical|page""#) == matcher("severity", .regexMatch, "critical|page"))
        #expect(try MatcherParser.parseMatcher("foo=bar") == matcher("foo", .equal, "bar"))
        #expect(try MatcherParser.parseMatcher(#"instance=~".+:9100""#) == matcher("instance", .regexMatch, ".+:9100"))
        #expect(try MatcherParser.parseMatcher(#"statuscode=~"5..""#) == matcher("statuscode", .regexMatch, "5.."))
        #expect(try MatcherParser.parseMatcher(#"env!="staging""#) == matcher("env", .notEqual, "staging"))
        #expect(try MatcherParser.parseMatcher(#"team!~"db|infra""#) == matcher("team", .regexNoMatch, "db|infra"))
    }

    @Test func parsedMatchersMatch() throws {
        let labels: LabelSet = ["alertname": "Watchdog", "severity": "page", "instance": "node1:9100"]
        #expect(try MatcherParser.parseMatcher(#"alertname="Watchdog""#).matches(labels))
        #expect(try MatcherParser.parseMatcher(#"severity=~"critical|page""#).matches(labels))
        #expect(try MatcherParser.parseMatcher(#"instance=~".+:9100""#).matches(labels))
        #expect(try !MatcherParser.parseMatcher(#"a=~"b""#).matches(["a": "abc"]))
        #expect(try MatcherParser.parseMatcher(#"foo="""#).matches(labels))
        #expect(try !MatcherParser.parseMatcher(#"foo!="""#).matches(labels))
        #expect(try MatcherParser.parseMatcher(#"severity!="""#).matches(labels))
    }

    @Test func operatorsAndWhitespace() throws {
        for text in ["a=b", "a = b", " a= b ", "a =b", "\ta\t=\t\"b\"\t", "a = \"b\""] {
            #expect(try MatcherParser.parseMatcher(text) == matcher("a", .equal, "b"), "\(text)")
        }
        #expect(try MatcherParser.parseMatcher("a =~ b") == matcher("a", .regexMatch, "b"))
        #expect(try MatcherParser.parseMatcher("a != b") == matcher("a", .notEqual, "b"))
        #expect(try MatcherParser.parseMatcher("a !~ b") == matcher("a", .regexNoMatch, "b"))
    }

    @Test func unquotedValues() throws {
        #expect(try MatcherParser.parseMatcher("a=") == matcher("a", .equal, ""))
        #expect(try MatcherParser.parseMatcher("a=  ") == matcher("a", .equal, ""))
        #expect(try MatcherParser.parseMatcher("a=b c") == matcher("a", .equal, "b c"))
        #expect(try MatcherParser.parseMatcher("a=x=y") == matcher("a", .equal, "x=y"))
        #expect(try MatcherParser.parseMatcher("a=~x.*") == matcher("a", .regexMatch, "x.*"))
        #expect(try MatcherParser.parseMatcher("a=é🚨") == matcher("a", .equal, "é🚨"))
        #expect(try MatcherParser.parseMatcher(#"a=\d"#) == matcher("a", .equal, #"\d"#))
    }

    @Test func quotedValueEscapes() throws {
        // A value containing " and \ : she said "hi" \o/
        let parsed = try MatcherParser.parseMatcher(#"quote="she said \"hi\" \\o/""#)
        #expect(parsed.value == #"she said "hi" \o/"#)
        #expect(parsed.matches(["quote": #"she said "hi" \o/"#]))
        #expect(try MatcherParser.parseMatcher(#"a="line1\nline2""#).value == "line1\nline2")
        // Other backslashes are literal, so regexes need no doubling (as in Alertmanager's classic parser).
        #expect(try MatcherParser.parseMatcher(#"a=~"\d+\.\d+""#).value == #"\d+\.\d+"#)
        #expect(try MatcherParser.parseMatcher(#"a=~"\\d+""#).value == #"\d+"#)
        #expect(try MatcherParser.parseMatcher(#"a=~"\d+""#).matches(["a": "42"]))
        // Commas, braces and operators inside quotes are just characters.
        #expect(try MatcherParser.parseMatcher(#"a="x, y} =~ {z""#).value == "x, y} =~ {z")
        #expect(try MatcherParser.parseMatcher(#"a="""#).value == "")
    }

    @Test func descriptionRoundTrips() throws {
        for text in [#"a="b""#, #"q="say \"hi\"\\\n""#, #"severity=~"critical|page""#, #"x!~"""#, #""a b"="c""#] {
            let parsed = try MatcherParser.parseMatcher(text)
            #expect(parsed.description == text)
            #expect(try MatcherParser.parseMatcher(parsed.description) == parsed)
        }
    }

    @Test func quotedUTF8LabelNames() throws {
        let parsed = try MatcherParser.parseMatcher(#""service name"="checkout""#)
        #expect(parsed.name == "service name")
        #expect(parsed.matches(["service name": "checkout"]))
        #expect(try MatcherParser.parseMatcher(#""🚨"=~"y.*""#).name == "🚨")
        #expect(try MatcherParser.parseMatcher(#""foo"="bar""#) == matcher("foo", .equal, "bar"))
    }

    // MARK: Lists

    @Test func lists() throws {
        let expected = [try matcher("team", .equal, "db"), try matcher("env", .notEqual, "staging")]
        #expect(try MatcherParser.parseMatchers(#"{team="db",env!="staging"}"#) == expected)
        #expect(try MatcherParser.parseMatchers(#"team="db", env!="staging""#) == expected)
        #expect(try MatcherParser.parseMatchers(#" { team = "db" , env != "staging" , } "#) == expected)
        #expect(try MatcherParser.parseMatchers(#"team="db",env!="staging","#) == expected)
        #expect(try MatcherParser.parseMatchers("team=db, env!=staging") == expected)
        #expect(try MatcherParser.parseMatchers("{team=db,env!=staging}") == expected)
        #expect(try MatcherParser.parseMatchers(#"{a="b", c=~"d"}"#) == [matcher("a", .equal, "b"), matcher("c", .regexMatch, "d")])
    }

    @Test func emptyLists() throws {
        #expect(try MatcherParser.parseMatchers("").isEmpty)
        #expect(try MatcherParser.parseMatchers("   ").isEmpty)
        #expect(try MatcherParser.parseMatchers("{}").isEmpty)
        #expect(try MatcherParser.parseMatchers("{ }").isEmpty)
    }

    @Test func alertmanagerDocExample() throws {
        let parsed = try MatcherParser.parseMatchers(#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#)
        #expect(parsed == [try matcher("quote", .equal, #"She said: "Hi, ladies! That's gender-neutral…""#)])
        #expect(try MatcherParser.parseMatchers(#"{foo = "bar", dings != "bums", }"#).count == 2)
        #expect(try MatcherParser.parseMatchers("foo=bar,dings!=bums").count == 2)
    }

    // MARK: Errors, each with its offset

    @Test(arguments: [
        // (input, message, offset)
        (#"team"#, #"expected one of =, !=, =~, !~ after label name "team""#, 4),
        (#"team "db""#, #"expected one of =, !=, =~, !~ after label name "team""#, 5),
        (#"team!"db""#, #"expected one of =, !=, =~, !~ after label name "team""#, 4),
        (#"team~"db""#, #"expected one of =, !=, =~, !~ after label name "team""#, 4),
        (#"team=="db""#, "unexpected \" in unquoted value; put the whole value in double quotes", 6),
        (#"1abc="x""#, #"invalid label name "1abc""#, 0),
        (#"  foo-bar="x""#, #"invalid label name "foo-bar""#, 2),
        (#"=x"#, #"expected a label name, found "=""#, 0),
        (#""#, "expected a label name, found end of input", 0),
        (#"   "#, "expected a label name, found end of input", 3),
        (#"a="b"#, "unterminated quoted value", 2),
        (#"a = "b\""#, "unterminated quoted value", 4),
        (#"a="b\"#, "unterminated quoted value", 2),
        (#""a=b"#, "unterminated quoted label name", 0),
        (#""" = "b""#, "empty label name", 0),
        (#"a=~"(""#, #"bad regex "(": missing closing )"#, 4),
        (#"a =~ ("#, #"bad regex "(": missing closing )"#, 5),
        (#"a!~"x**""#, #"bad regex "x**": invalid nested repetition operator *"#, 4),
        (#"a=b"c""#, "unexpected \" in unquoted value; put the whole value in double quotes", 3),
        (#"a="b" c"#, #"unexpected "c" after matcher"#, 6),
        (#"a="b","#, #"unexpected "," after matcher"#, 5),
        (#"{a="b"}"#, "a single matcher is written without { }", 0),
    ])
    func singleMatcherErrors(input: String, message: String, offset: Int) {
        #expect(throws: MatcherError(message: message, offset: offset)) {
            try MatcherParser.parseMatcher(input)
        }
    }

    @Test(arguments: [
        (#"{a="b""#, "missing } to close the { at offset 0", 6),
        (#"a="b"}"#, "unexpected } without an opening {", 5),
        (#"{a="b"} x"#, #"unexpected "x" after }"#, 8),
        (#"{a="b" c="d"}"#, #"expected , or } after matcher, found "c""#, 7),
        (#"a="b" c="d""#, #"expected , after matcher, found "c""#, 6),
        (#"a="b",,c="d""#, #"expected a label name, found ",""#, 6),
        (#",a="b""#, #"expected a label name, found ",""#, 0),
        (#"{,}"#, #"expected a label name, found ",""#, 1),
        (#"{team="db", env=~"(staging"}"#, #"bad regex "(staging": missing closing )"#, 18),
        (#"{team="db", 9env="x"}"#, #"invalid label name "9env""#, 12),
        (#"{team="db", env}"#, #"expected one of =, !=, =~, !~ after label name "env""#, 15),
        (#"a=b, c="d"#, "unterminated quoted value", 7),
        // Offsets count Unicode scalars, not bytes: "é" is one.
        (#"{x="é", y=~"[""#, #"bad regex "[": missing closing ]"#, 12),
    ])
    func listErrors(input: String, message: String, offset: Int) {
        #expect(throws: MatcherError(message: message, offset: offset)) {
            try MatcherParser.parseMatchers(input)
        }
    }

    @Test func errorDescription() {
        #expect(MatcherError(message: "unterminated quoted value", offset: 2).description == "offset 2: unterminated quoted value")
    }
}
