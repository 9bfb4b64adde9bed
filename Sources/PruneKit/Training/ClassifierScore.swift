import Foundation

/// Top-1 accuracy and mean cross-entropy of a classifier on some samples.
public struct ClassifierScore: Sendable, Codable, Equatable {
    /// Fraction of samples whose largest logit is their label, 0...1.
    public var accuracy: Double
    /// Mean −log softmax(logits)[label], in nats.
    public var loss: Double
    public var samples: Int

    public init(accuracy: Double, loss: Double, samples: Int) {
        self.accuracy = accuracy
        self.loss = loss
        self.samples = samples
    }

    /// Runs `model` over `indices` of `data` in batches of `batchSize`, against `labels[i]` for
    /// sample i. `checkpoint` runs between batches (cancellation).
    public static func measure(_ model: ClassifierGraph, data: TrainingData, indices: [Int], labels: [Int], labelName: String,
                               batchSize: Int, checkpoint: () throws -> Void = {}) throws -> ClassifierScore {
        var tally = Tally()
        for batch in BatchOrder.inOrder(indices, size: batchSize) {
            try checkpoint()
            let logits = try model.logits(data.inputs(batch))
            try tally.add(logits: logits, labels: batch.map { labels[$0] }, samples: batch, labelName: labelName)
        }
        return tally.score
    }

    /// What a model without labels is scored against: the teacher's top-1 class of every
    /// sample of `batches`, given its `logits` of each batch (0 elsewhere, unread), per data
    /// index of a data set of `count` samples.
    public static func teacherLabels(logits: [NDArray<Float>], batches: [[Int]], count: Int) -> [Int] {
        var labels = [Int](repeating: 0, count: count)
        for (batch, l) in zip(batches, logits) { for (i, p) in zip(batch, predictions(l)) { labels[i] = p } }
        return labels
    }

    /// The top-1 class of each row of N × classes logits (the lowest index among ties).
    public static func predictions(_ logits: NDArray<Float>) -> [Int] {
        let classes = logits.shape[1]
        return (0..<logits.shape[0]).map { row in
            let values = logits.storage[(row * classes)..<((row + 1) * classes)]
            return values.indices.max { values[$0] < values[$1] || (values[$0] == values[$1] && $0 > $1) }! - row * classes
        }
    }

    /// Running sums over batches.
    struct Tally {
        var correct = 0
        var lossSum = 0.0
        var count = 0

        var score: ClassifierScore {
            ClassifierScore(accuracy: count > 0 ? Double(correct) / Double(count) : 0, loss: count > 0 ? lossSum / Double(count) : 0, samples: count)
        }

        /// `samples` are the data indices of the rows, for errors.
        mutating func add(logits: NDArray<Float>, labels: [Int], samples: [Int], labelName: String) throws {
            let classes = logits.shape[1]
            for (row, label) in labels.enumerated() {
                guard label < classes else {
                    throw TrainingDataError.labelOutOfRange(tensor: labelName, sample: samples[row], value: label, classes: classes)
                }
                let values = logits.storage[(row * classes)..<((row + 1) * classes)]
                let peak = values.max()!
                let logSum = Double(peak) + log(values.reduce(0.0) { $0 + exp(Double($1 - peak)) })
                lossSum += logSum - Double(values[row * classes + label])
            }
            correct += zip(ClassifierScore.predictions(logits), labels).filter { $0 == $1 }.count
            count += labels.count
        }
    }
}
