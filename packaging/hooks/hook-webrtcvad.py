# webrtcvad comes from the webrtcvad-wheels distribution here; the contrib hook asks for the
# metadata of "webrtcvad" (the source-only original) and stops the build when it is absent.
from PyInstaller.utils.hooks import copy_metadata

datas = copy_metadata("webrtcvad-wheels")
