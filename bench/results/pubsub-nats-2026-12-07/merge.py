import json,sys,glob
d=sys.argv[1]
for v in ('before','after'):
    outs=[]
    for i in (1,2,3):
        try: outs.append(json.load(open(f'{d}/{v}-{i}.json')))
        except FileNotFoundError: pass
    import copy
    m=copy.deepcopy(outs[0]); m['steps']=[]
    for r,o in enumerate(outs):
        for s in o['steps']:
            s['round']=r; m['steps'].append(s)
        m.setdefault('failures',[]); m['failures']+=o.get('failures') or []
    m['command']=outs[0]['command']+f"  (× {len(outs)}, one round each, interleaved with the other layout)"
    json.dump(m,open(f'{d}/{v}.json','w'),indent=1)
