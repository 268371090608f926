"""neural-style studio: a local web page (Gradio) to stylise, denoise and apply or train fast networks,
watching the image change.

The page calls the same runners as the command line (``stylize_file``, ``denoise_files``,
``transfer``, ``train``) through their callbacks, never the command line itself. :mod:`.jobs` runs one
of them in a worker thread that the page watches and can stop; :mod:`.handlers` are the page's
actions as plain generators (testable without a browser); :mod:`.page` lays them out with Gradio
(the ``studio`` extra) and :mod:`.server` serves it.
"""
