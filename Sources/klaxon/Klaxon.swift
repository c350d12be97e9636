import ArgumentParser

@main
struct Klaxon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "klaxon",
        abstract: "Turns monitoring alerts into phone calls.",
        subcommands: [
            ServeCommand.self, CheckCommand.self, RouteCommand.self, CallCommand.self, IncidentsCommand.self, AckCommand.self, ResolveCommand.self,
            EmailCommand.self,
        ]
    )
}
