import Foundation

/// One parsed e-mail, reduced to what alerting needs.
///
/// Produced by ``RFC5322Parser/parse(_:limits:)``. Header values are decoded (RFC 2047
/// encoded-words, charsets) and the body is plain text whatever the message carried:
/// the first `text/plain` alternative, otherwise `text/html` turned into readable text;
/// attachments are left out. Line ends in ``text`` are `\n`.
public struct EmailMessage: Sendable, Hashable {
    /// The Subject, decoded; "" when absent.
    public var subject: String
    /// The From field, decoded, as written (`Grafana <alerts@grafana.example>`); "" when absent.
    public var from: String
    /// The address part of ``from`` (`alerts@grafana.example`), lower-cased; nil when there is none.
    public var fromAddress: String?
    /// The Return-Path address without angle brackets, lower-cased; "" for the null sender
    /// `<>`, nil when the field is absent (the MTA adds it at final delivery).
    public var returnPath: String?
    /// The Message-ID without angle brackets; nil when absent.
    public var messageID: String?
    /// The first message id of In-Reply-To, without angle brackets; nil when absent.
    public var inReplyTo: String?
    /// The message ids of References, oldest (the thread's root) first, without angle brackets.
    public var references: [String]
    /// The Date field; nil when absent or not an RFC 5322 date.
    public var date: Date?
    /// Every header field of the message (not of its parts), unfolded, not decoded.
    public var headers: EmailHeaders
    /// The body as plain text (see the type's summary); "" when the message has none.
    public var text: String
    /// Whether ``text`` came from an HTML part because there was no plain-text one.
    public var textIsFromHTML: Bool
    /// Parts left out as attachments: their file names, or their content types when unnamed.
    public var skippedAttachments: [String]
    /// What was repaired on the way, for the log: an unknown charset read as UTF-8, junk skipped
    /// in base64, a boundary that never appears, ... Empty for a clean message.
    public var notes: [String]

    public init(
        subject: String = "",
        from: String = "",
        fromAddress: String? = nil,
        returnPath: String? = nil,
        messageID: String? = nil,
        inReplyTo: String? = nil,
        references: [String] = [],
        date: Date? = nil,
        headers: EmailHeaders = EmailHeaders(),
        text: String = "",
        textIsFromHTML: Bool = false,
        skippedAttachments: [String] = [],
        notes: [String] = []
    ) {
        self.subject = subject
        self.from = from
        self.fromAddress = fromAddress
        self.returnPath = returnPath
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
        self.headers = headers
        self.text = text
        self.textIsFromHTML = textIsFromHTML
        self.skippedAttachments = skippedAttachments
        self.notes = notes
    }

    /// The message that opened this thread: the first of References, else In-Reply-To, else
    /// this message's own Message-ID; nil when the message names none of them.
    public var threadRoot: String? {
        references.first ?? inReplyTo ?? messageID
    }
}
