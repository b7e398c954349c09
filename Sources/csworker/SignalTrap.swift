import Dispatch
import Foundation
import Synchronization

/// Turns SIGTERM and SIGINT into a call, so the worker can finish the batch in
/// hand instead of dying mid-way. A second signal while stopping exits at once.
final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "csworker.signals")
    private let received = Mutex(0)

    init(_ signals: [Int32] = [SIGTERM, SIGINT], onSignal: @escaping @Sendable (Int32) -> Void) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [unowned self] in
                let count = self.received.withLock { count -> Int in
                    count += 1
                    return count
                }
                if count > 1 {
                    printError("csworker: second signal, exiting without finishing")
                    exit(130)
                }
                onSignal(number)
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
