import Foundation
import KlaxonCore
import KlaxonRules

/// The two renderings of `klaxon route`: the documented JSON shape and a table for people.
enum RouteOutput {
    static func json(_ plans: [AlertPlan]) -> String {
        let alerts: [OrderedJSON] = plans.map { plan in
            var fields: [(String, OrderedJSON)] = [
                ("status", .string(plan.alert.status.rawValue)),
                ("labels", .object(plan.alert.labels.sorted.map { ($0.name, .string($0.value)) })),
                ("severity", .string(plan.severity)),
            ]
            if plan.dropped { fields.append(("dropped", .bool(true))) }
            fields.append(("matches", .array(plan.matches.map(json))))
            return .object(fields)
        }
        return OrderedJSON.object([("alerts", .array(alerts))]).rendered + "\n"
    }

    private static func json(_ match: RouteMatch) -> OrderedJSON {
        var fields: [(String, OrderedJSON)] = [
            ("route", .string(match.route)),
            ("priority", .int(match.priority)),
            ("dedupe_key", .string(match.dedupeKey)),
            ("voice", match.voice.map { .string($0) } ?? .null),
            ("params", .array(match.params.map { .string($0) })),
            ("providers", .array(match.providers.map { .string($0) })),
            (
                "escalation",
                .array(
                    match.steps.map { step in
                        .object([
                            ("step", .int(step.step)),
                            ("after_seconds", .int(Int(step.after.components.seconds))),
                            ("recipients", .array(step.recipients.map { .string($0.name) })),
                        ])
                    }
                )
            ),
        ]
        if match.dropped { fields.append(("dropped", .bool(true))) }
        return .object(fields)
    }

    static func table(_ plans: [AlertPlan]) -> String {
        var out = ""
        for (index, plan) in plans.enumerated() {
            let name = plan.alert.labels["alertname"] ?? "(no alertname)"
            out += "alert \(index + 1)/\(plans.count)  \(plan.alert.status.rawValue)  \(name)  \(plan.alert.labels)\n"
            out +=
                "  severity    \(plan.severity.isEmpty ? "(none)" : plan.severity)\(plan.dropped ? "  DROPPED by severity level: nobody is called" : "")\n"
            if plan.matches.isEmpty && !plan.dropped { out += "  no route matches: nobody is called\n" }
            for match in plan.matches {
                out += "  route       \(match.route)  priority \(match.priority)\(match.dropped ? "  DROPPED by route: nobody is called" : "")\n"
                out += "  dedupe key  \(match.dedupeKey)\n"
                if match.dropped { continue }
                out += "  voice       \(match.voice ?? "(none)")"
                out += match.params.isEmpty ? "\n" : "  params " + match.params.map { "\"\($0)\"" }.joined(separator: ", ") + "\n"
                out += "  providers   \(match.providers.joined(separator: " → "))\n"
                for step in match.steps {
                    let people = step.recipients.map { "\($0.name) (\($0.maskedPhone))" }.joined(separator: ", ")
                    let label = "step \(step.step)"
                    let after = "+" + DurationParser.format(step.after)
                    out +=
                        "  " + label.padding(toLength: 12, withPad: " ", startingAt: 0) + after.padding(toLength: 8, withPad: " ", startingAt: 0)
                        + people + "\n"
                }
            }
            out += "\n"
        }
        return out
    }
}

/// JSON with keys in the order given, for output whose shape is documented.
indirect enum OrderedJSON {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([OrderedJSON])
    case object([(String, OrderedJSON)])

    var rendered: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .string(let value): JSONStringLiteral.quoted(value)
        case .array(let items): "[" + items.map(\.rendered).joined(separator: ",") + "]"
        case .object(let fields): "{" + fields.map { JSONStringLiteral.quoted($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        }
    }
}
