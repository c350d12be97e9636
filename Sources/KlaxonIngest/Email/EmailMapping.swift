/// How an input of `type: email` turns a message into an alert (the input's `mapping:`).
///
/// Contract, applied by ``EmailAdapter``:
/// - **Senders.** When ``senders`` is not empty, the From address and, when the message has
///   one, the Return-Path address must each be on it: an entry is an exact address
///   (`zabbix@example.com`) or a whole domain (`@example.com`, that domain only, not its
///   subdomains), compared case-insensitively. Otherwise ``IngestError/Code/senderRejected``.
/// - **Labels**, in order of precedence: named captures of ``subjectPatterns`` (against the
///   decoded Subject) and then of ``bodyPatterns`` (against the first 64 KiB of body text),
///   earlier patterns first; then `key: value` body lines (see ``fields``); then
///   ``staticLabels`` for names still missing; `alertname` defaults to the Subject without its
///   status and severity markers (`[FIRING:2] DiskFull` → `DiskFull`), else the whole Subject,
///   else the first line of the body.
/// - **Body lines** `key: value`: keys are normalized to label names (`Problem name` →
///   `problem_name`); a key in ``labelKeys`` becomes a label, in ``annotationKeys`` an
///   annotation, any other key is handled as ``fields`` says (default: ignored).
/// - **Status** is resolved when the Subject says so (`[RESOLVED]`, `Resolved:`, `Resolved in 5m:`,
///   `OK:`, `RECOVERY`), firing otherwise.
/// - **Severity**: a marker in the Subject (`[CRITICAL]`, `[P1]`, `WARNING:`), else a
///   `severity` label, else a `severity:` body line; looked up case-insensitively in
///   ``severityMap`` and replaced when found, otherwise reported lower-cased.
/// - **Dedupe key** (the alert's fingerprint): the value of ``dedupeLabel`` when that label is
///   set; otherwise with ``Dedupe/thread`` the id of the message that opened the thread (first
///   of References, else In-Reply-To, else the message's own Message-ID), so a reply saying
///   "Resolved" lands on the incident its problem mail opened; with ``Dedupe/labels`` (or a
///   message without any of those ids) the ``Fingerprint`` of the labels.
/// - **Matching**: with ``requireMatch`` a message that none of the patterns matches is
///   ``IngestError/Code/unusableMessage`` (the mail server bounces it with exit 65).
public struct EmailMapping: Sendable, Hashable {
    /// What happens to a `key: value` body line whose key is in neither ``labelKeys`` nor ``annotationKeys``.
    public enum FieldUse: String, Sendable, Hashable, CaseIterable {
        case ignore
        case label
        case annotation
    }

    /// Where the dedupe key comes from when ``dedupeLabel`` gives none.
    public enum Dedupe: String, Sendable, Hashable, CaseIterable {
        /// The thread's root message id: for senders that thread their recovery mail (Zabbix,
        /// most ticketing systems).
        case thread
        /// The fingerprint of the labels: for senders that do not thread but repeat the same
        /// subject (Alertmanager's and Grafana's `[FIRING]`/`[RESOLVED]` mail).
        case labels
    }

    public var subjectPatterns: [EmailPattern]
    public var bodyPatterns: [EmailPattern]
    /// Body keys that become labels; compared after ``normalizeKey(_:)``.
    public var labelKeys: Set<String>
    /// Body keys that become annotations; compared after ``normalizeKey(_:)``.
    public var annotationKeys: Set<String>
    public var fields: FieldUse
    /// Severity as written (case-insensitive) → severity to report (`disaster` → `critical`).
    /// Its keys also count as severity words in the Subject.
    public var severityMap: [String: String]
    /// Constant labels added when the message does not supply the same name.
    public var staticLabels: [String: String]
    /// Allowed senders: `user@domain` or `@domain`; empty allows everyone.
    public var senders: [String]
    public var requireMatch: Bool
    public var dedupe: Dedupe
    /// A label whose value is the dedupe key when the message sets it (`event_id`).
    public var dedupeLabel: String?

    public init(
        subjectPatterns: [EmailPattern] = [],
        bodyPatterns: [EmailPattern] = [],
        labelKeys: Set<String> = [],
        annotationKeys: Set<String> = [],
        fields: FieldUse = .ignore,
        severityMap: [String: String] = [:],
        staticLabels: [String: String] = [:],
        senders: [String] = [],
        requireMatch: Bool = false,
        dedupe: Dedupe = .thread,
        dedupeLabel: String? = nil
    ) {
        self.subjectPatterns = subjectPatterns
        self.bodyPatterns = bodyPatterns
        self.labelKeys = Set(labelKeys.map(Self.normalizeKey))
        self.annotationKeys = Set(annotationKeys.map(Self.normalizeKey))
        self.fields = fields
        self.severityMap = severityMap
        self.staticLabels = staticLabels
        self.senders = senders
        self.requireMatch = requireMatch
        self.dedupe = dedupe
        self.dedupeLabel = dedupeLabel
    }

    /// No patterns, no body fields, every sender, thread dedupe: alertname from the Subject.
    public static let `default` = EmailMapping()

    /// A body key as a label name: `Original problem ID` → `original_problem_id`. Apply it to
    /// keys written in configuration so they compare with what the body yields.
    public static func normalizeKey(_ key: String) -> String {
        BodyFields.normalize(key)
    }

    /// Whether `entry` is a valid ``senders`` entry: `user@domain` or `@domain`.
    public static func isValidSender(_ entry: String) -> Bool {
        guard let at = entry.firstIndex(of: "@"), entry.filter({ $0 == "@" }).count == 1 else { return false }
        let domain = entry[entry.index(after: at)...]
        return !domain.isEmpty && !entry.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0 == "," })
    }

    /// Whether `address` (lower-cased addr-spec) is allowed by ``senders``.
    func allows(_ address: String) -> Bool {
        let address = address.lowercased()
        guard let at = address.lastIndex(of: "@") else { return false }
        let domain = address[at...]
        for entry in senders {
            let entry = entry.lowercased()
            if entry.hasPrefix("@") ? domain == entry : address == entry { return true }
        }
        return false
    }
}
