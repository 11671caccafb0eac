^XA
^FX Unit label, 50 x 30 mm at 203 dpi (400 x 240 dots). Fields are named in station/labels/content.py.
^FX Every field that holds a placeholder turns on hex escapes with FH; UTF-8 text (CI28).
^CI28
^PW400
^LL240
^LH0,0
^FX QR code: model 2, 4 dots per module, error correction M, automatic mode. Payload PPA1:DEVID:RECORD-ID.
^FO16,16^BQN,2,4^FH^FDMA,PPA1:2023B758C209269A:3F2B8C1E-7D4A-4B9E-9C55-0A1B2C3D4E5F^FS
^FO148,20^A0N,30,30^FH^FDEncedo PPA^FS
^FO148,58^A0N,22,22^FH^FD2025-03-04^FS
^FO148,84^A0N,20,16^FH^FDline1-st01^FS
^FO148,112^A0N,26,26^FH^FD^FS
^FX Device id large and fixed-pitch (font D at 2x), record id below it.
^FO16,150^ADN,36,20^FH^FD2023b758c209269a^FS
^FO16,198^ADN,18,10^FH^FD3f2b8c1e-7d4a-4b9e-9c55-0a1b2c3d4e5f^FS
^PQ1
^XZ
