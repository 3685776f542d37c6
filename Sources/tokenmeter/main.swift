import App
import Foundation

exit(CLI.main(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment))
