^XA
^FX Unit label, 50 x 30 mm at 203 dpi (400 x 240 dots). Fields are named in station/labels/content.py.
^FX Every field that holds a placeholder turns on hex escapes with FH; UTF-8 text (CI28).
^CI28
^PW400
^LL240
^LH0,0
^FX QR code: model 2, 4 dots per module, error correction M, automatic mode. Payload PPA1:DEVID:RECORD-ID.
^FO16,16^BQN,2,4^FH^FDMA,{qr_data}^FS
^FO148,20^A0N,30,30^FH^FD{product}^FS
^FO148,58^A0N,22,22^FH^FD{date}^FS
^FO148,84^A0N,20,16^FH^FD{station}^FS
^FO148,112^A0N,26,26^FH^FD{simulated}^FS
^FX Device id large and fixed-pitch (font D at 2x), record id below it.
^FO16,150^ADN,36,20^FH^FD{devid}^FS
^FO16,198^ADN,18,10^FH^FD{record_id}^FS
^XZ
