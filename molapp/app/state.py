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
TRIAGE_SOURCE = "molapp.triage.source"  # "Upload CSV" | "Upload SDF" | "Paste SMILES"
TRIAGE_SMILES_COLUMN = "molapp.triage.smiles_column"  # of the uploaded CSV
TRIAGE_ID_COLUMN = "molapp.triage.id_column"
TRIAGE_PASTE = "molapp.triage.paste"  # the pasted list
TRIAGE_UPLOAD = "molapp.triage.upload"  # {"key": (file id, kind, columns), "rows": rows read, "digest": ...}
TRIAGE_RESULT = "molapp.triage.result"  # {"key": (checkpoint, input digest), "table": scored DataFrame}
TRIAGE_VIEW = "molapp.triage.view"  # the filtered, ranked rows on screen (the Map page places them)
MAP_COLOUR = "molapp.map.colour"  # what colours the reference points
MAP_TASK = "molapp.map.task"  # the task whose labels/predictions colour the map
MAP_COMPARE = "molapp.map.compare"  # a second checkpoint's map beside the first
MODELS_BOARD_PANEL = "molapp.models.board_panel"  # the panel the leaderboard's choices were started from
MODELS_DATASET = "molapp.models.dataset"  # the leaderboard's dataset
MODELS_SPLIT = "molapp.models.split"  # the leaderboard's split
MODELS_TASK = "molapp.models.task"  # the task whose reliability is plotted
