import json,sys,glob
d=sys.argv[1]
for v in sys.argv[2:] or ("before", "after"):
    outs=[]
    import re
    fs=sorted(glob.glob(f'{d}/{v}-[0-9]*.json'), key=lambda p:int(re.findall(r'-(\d+)\.json$',p)[0]))
    outs=[json.load(open(p)) for p in fs]
    import copy
    m=copy.deepcopy(outs[0]); m['steps']=[]
    for r,o in enumerate(outs):
        for s in o['steps']:
            s['round']=r; m['steps'].append(s)
        m.setdefault('failures',[]); m['failures']+=o.get('failures') or []
    m['command']=outs[0]['command']+f"  (× {len(outs)}, one round each, interleaved with the other layout)"
    json.dump(m,open(f'{d}/{v}.json','w'),indent=1)
