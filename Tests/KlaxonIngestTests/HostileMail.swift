/// Hostile messages of (almost) exactly 1 MiB, one per way of making a parser slow.
/// `bench/klaxon-bench/main.swift` builds the same set to time them in a release build.
enum HostileMail {
    static let size = 1 << 20

    static func all() -> [(String, [UInt8])] {
        let header = "From: a@example.com\r\nSubject: hostile\r\n"
        var result: [(String, [UInt8])] = []

        var nested = header + "Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
        var level = 0
        while nested.utf8.count < size - 200 {
            level += 1
            nested += "--b\(level - 1)\r\nContent-Type: multipart/mixed; boundary=b\(level)\r\n\r\n"
        }
        result.append(("nested boundaries", fill(nested)))

        var siblings = header + "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        while siblings.utf8.count < size - 16 { siblings += "--b\r\n\r\nx\r\n" }
        result.append(("sibling parts", fill(siblings)))

        var subject = "From: a@example.com\r\nSubject:"
        while subject.utf8.count < size - 64 { subject += " =?UTF-8?B?5ZGK6K2m?=" }
        result.append(("huge encoded subject", fill(subject + "\r\n\r\nbody\r\n")))

        var folded = "From: a@example.com\r\nSubject: start"
        while folded.utf8.count < size - 64 { folded += "\r\n x" }
        result.append(("folded header", fill(folded + "\r\n\r\nbody\r\n")))

        // Nagios closes its subjects with " **"; a mail server folds a long line.
        var stars = "From: a@example.com\r\nSubject: ** PROBLEM x"
        while stars.utf8.count < size - 1100 { stars += "\r\n " + String(repeating: "*", count: 990) }
        result.append(("trailing stars", fill(stars + "\r\n\r\nbody\r\n")))

        var unclosed = "From: a@example.com\r\nSubject: "
        while unclosed.utf8.count < size - 64 { unclosed += "=?utf-8?q?a" }
        result.append(("unclosed encoded words", fill(unclosed + "\r\n\r\nbody\r\n")))

        var fields = header
        while fields.utf8.count < size - 16 { fields += "X-A: b\r\n" }
        result.append(("many header fields", fill(fields + "\r\n")))

        let html = header + "Content-Type: text/html\r\n\r\n" + String(repeating: "<p a='>'>&amp;&#x41;<br><td>&bogus", count: (size - 200) / 36)
        result.append(("html soup", fill(html)))

        let qp = header + "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + String(repeating: "=3D=\r\n==ZZ ", count: (size - 200) / 12)
        result.append(("quoted-printable", fill(qp)))

        let junk = header + "Content-Transfer-Encoding: base64\r\n\r\n" + String(repeating: "!@#$%^&*()QUJD", count: (size - 200) / 14)
        result.append(("base64 junk", fill(junk)))

        var gbk = Array((header + "Content-Type: text/plain; charset=gbk\r\n\r\n").utf8)
        gbk += [UInt8](repeating: 0xFF, count: size - gbk.count - 8)
        result.append(("invalid GBK", gbk))

        var lines = header + "\r\n"
        while lines.utf8.count < size - 32 { lines += "key\(lines.utf8.count % 97): value\r\n" }
        result.append(("body fields", fill(lines)))
        return result
    }

    private static func fill(_ text: String) -> [UInt8] {
        Array(text.utf8.prefix(size))
    }
}
