"""Pure imaging core for clinical photos: no Django, no storage, no database.

What each module holds:

- ``formats``      which image format a byte string is, by content, and signs of other formats
- ``jpeg``, ``png``, ``webp``  container walks that find the image's end and drop metadata
                   without re-encoding the pixels
- ``camera``       the camera facts (make, model, flash, exposure, capture time) read from EXIF
- ``intake``       the safe intake of an uploaded file: identify, refuse, strip, describe
- ``derivatives``  thumbnail and screen-size copies (sRGB JPEG)
- ``icc``          matrix-shaper ICC profiles read into a linearisation table and a matrix
- ``colour``       decoding at reduced scale, and colour-managed conversion to CIELAB (D65)
- ``landmarks``    face landmarks (MediaPipe Face Mesh) and the skin regions built from them
- ``alignment``    similarity transforms between two photos of the same view
- ``anonymise``    hiding the eyes for the teaching scope
- ``quality``      blur, exposure, face size and colour-cast checks, with plain-words advice
- ``redness``      mean a* over landmark regions, change from baseline, the noise floor
- ``analysis``     the measurement pipeline that ties them together

See docs/photos.md for the decisions behind them and /work/shared/imaging.md for the facts.
"""
