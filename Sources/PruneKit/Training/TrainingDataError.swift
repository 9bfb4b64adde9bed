/// What is wrong with a data file (`input` N×C×H×W, `label` or `label.<task>` N integers), or
/// with it beside a model. Every case names the tensor at fault.
public enum TrainingDataError: Error, Equatable, CustomStringConvertible {
    /// The file is not there (as opposed to there but unreadable).
    case missingFile(path: String)
    /// The file is not a readable safetensors file; `reason` says where.
    case unreadable(path: String, reason: String)
    case missingTensor(String)
    /// A tensor that is neither `input`, `label` nor `label.<task>` (a typo such as `labels`).
    case unexpectedTensor(String)
    case wrongRank(tensor: String, expected: String, shape: [Int])
    case wrongDType(tensor: String, expected: String, dtype: DType)
    /// A label tensor whose length is not the number of inputs.
    case countMismatch(tensor: String, count: Int, inputs: Int)
    case empty(tensor: String)
    case nonFinite(tensor: String, sample: Int)
    case negativeLabel(tensor: String, sample: Int, value: Int64)
    /// A label at or past the number of classes the model's logits have; `model` names the
    /// model where the check knows it (one `label` for task models of different heads).
    case labelOutOfRange(tensor: String, sample: Int, value: Int, classes: Int, model: String? = nil)
    /// `input` does not fit the graph input it is fed to.
    case inputMismatch(graphInput: String, declared: [Dim], sample: [Int])
    /// A model without labels (no `label.<task>`, no plain `label`) beside labels naming no
    /// model of the job (`unmatched`): most likely its labels under a misspelt name.
    case noLabelsForTask(task: String, unmatched: [String])
    /// Training from the model's own weights needs labels (there is no teacher).
    case missingLabels(task: String)
    /// Too few samples to hold some out and train on the rest.
    case tooFewSamples(count: Int, needed: Int)
    /// The model has no single image input to feed `input` to.
    case modelInputs(names: [String])
    /// The model's first output is not logits (batch × classes).
    case logitsShape(output: String, shape: [Int], batch: Int)

    public var description: String {
        switch self {
        case let .missingFile(path): return "\(path): no such file"
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .missingTensor(name): return "data file has no tensor '\(name)'"
        case let .unexpectedTensor(name):
            return "data file has a tensor '\(name)', which is not input, label or label.<task>"
        case let .wrongRank(tensor, expected, shape):
            return "data tensor '\(tensor)' has shape \(shape); expected \(expected)"
        case let .wrongDType(tensor, expected, dtype):
            return "data tensor '\(tensor)' has dtype \(dtype.rawValue); expected \(expected)"
        case let .countMismatch(tensor, count, inputs):
            return "data tensor '\(tensor)' has \(count) labels but 'input' has \(inputs) samples"
        case let .empty(tensor): return "data tensor '\(tensor)' has no samples"
        case let .nonFinite(tensor, sample): return "data tensor '\(tensor)' has a NaN or infinite value in sample \(sample)"
        case let .negativeLabel(tensor, sample, value):
            return "data tensor '\(tensor)' has label \(value) at sample \(sample); labels are class indices from 0"
        case let .labelOutOfRange(tensor, sample, value, classes, model):
            return "data tensor '\(tensor)' has label \(value) at sample \(sample), but \(model.map { "model '\($0)'" } ?? "the model") has \(classes) classes"
        case let .inputMismatch(graphInput, declared, sample):
            return "data tensor 'input' has samples of shape \(sample), but graph input '\(graphInput)' is declared [\(declared.map(\.description).joined(separator: ", "))]"
        case let .noLabelsForTask(task, unmatched):
            return "data file has no labels for model '\(task)' but has \(unmatched.map { "'\($0)'" }.joined(separator: ", ")), "
                + "naming no model of the job: rename to 'label.\(task)' (or add a plain 'label'), or drop them for '\(task)' to distil from its unpruned model"
        case let .missingLabels(task):
            return "data file has no 'label' (or 'label.\(task)'): training needs labels"
        case let .tooFewSamples(count, needed):
            return "data tensor 'input' has \(count) samples; at least \(needed) are needed"
        case let .modelInputs(names):
            return "the model has \(names.count) data inputs (\(names.joined(separator: ", "))); training needs exactly one, fed from 'input'"
        case let .logitsShape(output, shape, batch):
            return "model output '\(output)' has shape \(shape) for a batch of \(batch); training and evaluation need logits of shape [\(batch), classes]"
        }
    }
}
