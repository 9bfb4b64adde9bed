"""Constants both sides share: tasks, rates, and the fine-tuning budget.

ours.py passes the budget to `pruned prune` as flags; baselines.py uses the same numbers for
Torch-Pruning. Change them here only, never on one side.
"""

TASKS = ("digit", "parity", "ge5", "mod3")          # the model file names (= the task names)
CLASSES = {"digit": 10, "parity": 2, "ge5": 2, "mod3": 3}
ARCHS = ("vgg", "resnet")
RATES = (0.1, 0.3, 0.5)
SEED = 0


def task_label(task, digit):
    """The task's label from the digit (works on ints, numpy arrays and torch tensors)."""
    return {"digit": digit, "parity": digit % 2, "ge5": (digit >= 5) * 1, "mod3": digit % 3}[task]


# Fine-tuning after pruning, setting (c): the same on both sides.
# SGD with Nesterov off; cosine over epochs: epoch e (0-based) uses LR * (1 + cos(pi * e / E)) / 2;
# the training split reshuffled each epoch (last batch kept); loss: cross-entropy on the task label.
FT_EPOCHS = 5
FT_LR = 0.01
FT_MOMENTUM = 0.9
FT_WEIGHT_DECAY = 5e-4
FT_BATCH_SIZE = 64

# Making the task models (make_tasks.py only): the backbone on "digit", then one copy per task.
BACKBONE_EPOCHS = 20
BACKBONE_LR = 0.05
TASK_EPOCHS = 8
TASK_LR = 0.01
