import Foundation
import ArgumentParser
import Kafka
import OperationsServer
import Postgres

/// The contract's exit codes: 64 bad usage or configuration, 69 a service
/// unreachable after retries, 70 internal error.
enum ServiceExit {
    static let usage = ExitCode(64)
    static let unavailable = ExitCode(69)
    static let internalError = ExitCode(70)

    static func code(for error: any Error) -> ExitCode {
        switch error {
        case let error as KafkaError:
            switch error.kind {
            case .brokersUnreachable, .timedOut: return unavailable
            case .invalidConfiguration: return usage
            default: return internalError
            }
        case let error as PostgresError:
            // A server at max_connections is as unavailable as one that does not answer.
            return error.isConnectionFailure || error.kind == .tooManyConnections ? unavailable : internalError
        case is OperationsServer.BindFailure:
            return unavailable
        default:
            return internalError
        }
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, printing a failure as one clear line on stderr and mapping
    /// it to the contract's exit code.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ValidationError {
            throw error
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("csworker: \(error)")
            throw ServiceExit.code(for: error)
        }
    }
}

func printError(_ line: String) {
    var stderr = StandardError()
    print(line, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
