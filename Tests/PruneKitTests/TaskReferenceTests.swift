import Foundation
import Testing
@testable import PruneKit

/// One task's unpruned model measured once per job: every figure it hands out must be what a
/// pass of its own over those samples would give, to the bit (the comparison of candidates
/// and the data stages took them from passes of their own before).
@Suite struct TaskReferenceTests {
    static let samples = 60

    static func recovery(labels: [String: Tensor] = [:], recalibrates: Bool = true) throws -> AccuracyRecovery {
        let input = Tensor(shape: [samples, 3, 6, 6], floats: KernelFixtures.values(samples * 108, seed: 4))
        // Batches of 7: none of the subsets below lines up with them.
        var r = try AccuracyRecovery(data: TrainingData(input: input, labels: labels), options: TrainingOptions(batchSize: 7, seed: 2))
        r.recalibrates = recalibrates
        return r
    }

    static func same(_ a: [String: ChannelMoments]?, _ b: [String: ChannelMoments]) -> Bool {
        guard let a, a.keys.sorted() == b.keys.sorted() else { return false }
        return a.allSatisfy { name, m in m.sum == b[name]!.sum && m.sumOfSquares == b[name]!.sumOfSquares && m.count == b[name]!.count }
    }

    @Test func withoutLabelsEveryFigureIsThatOfAPassOfItsOwn() throws {
        let graph = CalibrationTests.foldedNet()
        let recovery = try Self.recovery()
        let subset = recovery.calibrationSamples(limit: 20)
        #expect(subset.count == 20 && Set(subset).isSubset(of: recovery.calibrationSamples()))
        let reference = try TaskReference(name: "t", graph: graph, labelName: nil, recovery: recovery, comparisonCalibration: subset) { _ in }
        let model = try ClassifierGraph(graph, sampleShape: recovery.data.sampleShape)
        let convs = ["c1", "c2", "c3"].map { name in graph.nodes.first { $0.name == name }!.outputs[0] }

        // Moments: the calibration samples in one batch; the subset alone in batches of 3.
        let all = try ChannelMoments.measure(convs, in: model, data: recovery.data, batches: [recovery.calibrationSamples()]) { _ in }
        let alone = try ChannelMoments.measure(convs, in: model, data: recovery.data, batches: BatchOrder.inOrder(subset, size: 3)) { _ in }
        #expect(Self.same(reference.moments, all))
        #expect(Self.same(reference.comparisonMoments, alone))
        #expect(alone[convs[0]]!.count == 20 * 36)  // 20 samples × 6×6 positions

        // Distillation targets: any batch of scored samples, as the model gives them for that batch.
        let scored = recovery.scored
        #expect(scored.count == 6)
        for batch in [Array(scored.reversed()), [scored[4]], [scored[1], scored[3], scored[5]]] {
            #expect(reference.teacherLogits(batch) == (try model.logits(recovery.data.inputs(batch))))
        }
        // Scored against its own top-1: every sample right, the loss its own cross-entropy.
        let predictions = ClassifierScore.predictions(try model.logits(recovery.data.inputs(scored)))
        #expect(scored.map { reference.labels[$0] } == predictions)
        #expect(reference.isTeacher && reference.labelName == AccuracyReport.teacherLabels)
        let measured = try ClassifierScore.measure(model, data: recovery.data, indices: scored, labels: reference.labels,
                                                   labelName: reference.labelName, batchSize: 7)
        #expect(reference.beforePruning == measured && measured.accuracy == 1 && measured.samples == 6)
    }

    @Test func withLabelsItScoresAgainstThemAndKeepsNoLogits() throws {
        let graph = CalibrationTests.foldedNet()
        let labels = (0..<Self.samples).map { Int64($0 % 3) }
        let recovery = try Self.recovery(labels: ["label": Tensor(shape: [Self.samples], int64s: labels)])
        let reference = try TaskReference(name: "t", graph: graph, labelName: "label", recovery: recovery, comparisonCalibration: nil) { _ in }
        let model = try ClassifierGraph(graph, sampleShape: recovery.data.sampleShape)
        #expect(!reference.isTeacher && reference.labelName == "label" && reference.labels == labels.map { Int($0) })
        #expect(reference.teacherLogits([recovery.scored[0]]) == nil)
        #expect(reference.comparisonMoments == nil && reference.moments.count == 3)
        #expect(reference.beforePruning == (try ClassifierScore.measure(model, data: recovery.data, indices: recovery.scored,
                                                                        labels: reference.labels, labelName: "label", batchSize: 5)))
    }

    @Test func withoutRecalibrationNoMomentsAreMeasured() throws {
        let recovery = try Self.recovery(recalibrates: false)
        let reference = try TaskReference(name: "t", graph: CalibrationTests.foldedNet(), labelName: nil, recovery: recovery,
                                          comparisonCalibration: recovery.calibrationSamples(limit: 20)) { _ in }
        #expect(reference.moments.isEmpty && reference.comparisonMoments?.isEmpty == true)
    }
}
