import Foundation

/// Mean cross-entropy of `logits` (N×K) against class `labels` (N values in 0..<K), and its
/// gradient with respect to the logits: (softmax(logits) − onehot(labels)) / N.
public func softmaxCrossEntropy(logits: NDArray<Float>, labels: [Int]) throws -> (loss: Float, gradient: NDArray<Float>) {
    let (batch, classes) = try lossShape(logits, "logits")
    guard labels.count == batch else {
        throw KernelError.shape("\(labels.count) labels for a batch of \(batch) logits \(logits.shape)")
    }
    if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
        throw KernelError.attribute("label \(labels[bad]) of sample \(bad) is outside 0..<\(classes)")
    }
    guard batch > 0 else { return (0, logits) }
    let logProbabilities = try softmax(logits, axis: 1, log: true)
    let n = Float(batch)
    var total: Double = 0
    var gradient = logProbabilities.storage.map { Foundation.exp($0) / n }
    for (i, label) in labels.enumerated() {
        total -= Double(logProbabilities.storage[i * classes + label])
        gradient[i * classes + label] -= 1 / n
    }
    return (Float(total / Double(batch)), NDArray(uncheckedShape: logits.shape, storage: gradient))
}

/// Knowledge distillation (Hinton et al. 2015): the mean over the batch of
/// KL(softmax(teacher/T) ‖ softmax(student/T))·T², and its gradient with respect to the
/// student's logits, T·(softmax(student/T) − softmax(teacher/T)) / N. The T² keeps the
/// gradient's size independent of the temperature.
public func distillationLoss(student: NDArray<Float>, teacher: NDArray<Float>, temperature: Float) throws -> (loss: Float, gradient: NDArray<Float>) {
    let (batch, _) = try lossShape(student, "student logits")
    guard teacher.shape == student.shape else {
        throw KernelError.shape("teacher logits \(teacher.shape) do not match student logits \(student.shape)")
    }
    guard temperature > 0, temperature.isFinite else { throw KernelError.attribute("distillation temperature \(temperature) must be positive") }
    guard batch > 0 else { return (0, student) }
    func logSoftmax(_ x: NDArray<Float>) throws -> [Float] {
        try softmax(NDArray(uncheckedShape: x.shape, storage: x.storage.map { $0 / temperature }), axis: 1, log: true).storage
    }
    let (logP, logQ) = (try logSoftmax(teacher), try logSoftmax(student))
    let n = Float(batch)
    var total: Double = 0
    var gradient = [Float](repeating: 0, count: student.count)
    for i in gradient.indices {
        let p = Foundation.exp(logP[i])
        // A class the teacher gives probability 0 adds nothing (0·log 0 = 0).
        if p > 0 { total += Double(p) * Double(logP[i] - logQ[i]) }
        gradient[i] = temperature * (Foundation.exp(logQ[i]) - p) / n
    }
    let t2 = Double(temperature) * Double(temperature)
    return (Float(total * t2 / Double(batch)), NDArray(uncheckedShape: student.shape, storage: gradient))
}

/// N and K of an N×K logits array.
private func lossShape(_ x: NDArray<Float>, _ what: String) throws -> (batch: Int, classes: Int) {
    guard x.rank == 2 else { throw KernelError.shape("\(what) \(x.shape) should be N×K") }
    return (x.shape[0], x.shape[1])
}
