"""Audio in and out: files here (:mod:`jambox.audio.files`); live streams beside them."""
