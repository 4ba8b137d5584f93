__version__ = "0.1.0"

# typing.TYPE_CHECKING without importing typing: `nsexplorer list` never needs typing at
# run time, and importing it costs ~2 ms there. mypy reads `if TYPE_CHECKING:` blocks
# by this name, whatever it is bound to.
TYPE_CHECKING = False
