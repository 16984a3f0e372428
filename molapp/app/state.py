"""Keys of st.session_state the app uses, in one place."""

PANEL = "molapp.panel"  # title of the chosen assay panel
TASKS = "molapp.tasks"  # task queries chosen in the sidebar
THRESHOLD = "molapp.threshold"  # probability above which a task is called active
INPUT_MODE = "molapp.input_mode"  # "Paste SMILES" | "Draw" | "Examples"
SMILES_TEXT = "molapp.smiles_text"  # the SMILES box
EXAMPLE = "molapp.example"  # name of the chosen teaching molecule
EDITOR = "molapp.editor"  # JSME editor widget key (the component appends its height)
MOLECULE = "molapp.molecule"  # (name, SMILES) of the molecule on screen
ATTENTION_TASK = "molapp.attention_task"
COMPARE_TASK = "molapp.compare_task"
HOP = "molapp.hop"
MEMORY_LAYER = "molapp.memory_layer"  # which memory layer's clusters are drawn
