extension Graph {
    /// BatchNormalization running means and variances (inputs 3 and 4): statistics of the data,
    /// not learned, so not parameters. PyTorch keeps them as buffers and leaves them out of
    /// `parameters()`; counting them would make a user's `sum(p.numel() ...)` disagree with ours.
    public var batchNormRunningStatistics: Set<String> {
        var names: Set<String> = []
        for node in nodes where node.opType == "BatchNormalization" && node.inputs.count == 5 {
            names.insert(node.inputs[3])
            names.insert(node.inputs[4])
        }
        return names
    }
}
