#!/usr/bin/env python3
"""Build assets/fonts/YibaoReceiptSans.ttf (see README.md beside this file)."""
import os
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from fontTools.merge import Merger

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "assets", "fonts", "YibaoReceiptSans.ttf")

def sub(path, chars, out, upem):
    opts = subset.Options(); opts.layout_features = []; opts.hinting = False; opts.name_IDs = ['*']; opts.notdef_outline = True
    opts.drop_tables += ['GSUB', 'GPOS', 'GDEF', 'kern', 'FFTM', 'vhea', 'vmtx', 'gasp', 'prep', 'fpgm', 'cvt ', 'hdmx', 'VDMX', 'LTSH', 'meta', 'DSIG']
    f = TTFont(path); s = subset.Subsetter(opts); s.populate(unicodes=sorted(chars)); s.subset(f)
    if f['head'].unitsPerEm != upem:
        scale_upem(f, upem)
    o = f['OS/2']
    if o.version < 4:
        for k, v in [('ulCodePageRange1', 1), ('ulCodePageRange2', 0), ('sxHeight', 500), ('sCapHeight', 700), ('usDefaultChar', 0), ('usBreakChar', 32), ('usMaxContext', 1)]:
            if not hasattr(o, k): setattr(o, k, v)
        o.version = 4
    f.save(out)

latin = set(range(0x20, 0x7f)) | {0xa5, 0xb7, 0xd7, 0x2014, 0x2018, 0x2019, 0x201c, 0x201d, 0x2026, 0xb0}
cjk = set(range(0x3000, 0x3040)) | set(range(0xff00, 0xffef)) | {0x2103, 0x2116, 0x25cb, 0x25cf}
for b1 in range(0xb0, 0xf8):
    for b2 in range(0xa1, 0xff):
        try:
            cjk.add(ord(bytes([b1, b2]).decode('gb2312')))
        except UnicodeDecodeError:
            pass
sub('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', latin, '/tmp/yibao-latin.ttf', 1024)
sub('/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf', cjk - latin, '/tmp/yibao-cjk.ttf', 1024)
font = Merger().merge(['/tmp/yibao-latin.ttf', '/tmp/yibao-cjk.ttf'])
font['name'].setName('Yibao Receipt Sans', 1, 3, 1, 0x409)
font['name'].setName('YibaoReceiptSans', 6, 3, 1, 0x409)
font.save(OUT)
print(OUT, len(TTFont(OUT).getBestCmap()), "characters")
