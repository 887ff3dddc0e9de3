import sys, re, collections
for f in sys.argv[1:]:
    txt=open(f).read()
    c=collections.Counter()
    for block in txt.split('\n\n'):
        lines=block.strip().split('\n')
        m=re.match(r'(\d+) @',lines[0]) if lines else None
        if not m: continue
        n=int(m.group(1))
        funcs=[re.sub(r'\+0x[0-9a-f]+','',l.split()[2]) for l in lines[1:] if l.startswith('#')]
        if not any('tlshand' in x for x in funcs): continue
        tls=[x for x in funcs if x.startswith('crypto/tls.') ]
        key=' < '.join(x.replace('crypto/tls.','') for x in tls[:3]) if tls else funcs[0]
        top=funcs[0].split('/')[-1]
        c[(top,key)]+=n
    print(f, sum(c.values()))
    for (top,k),n in c.most_common(8): print('  ',n, top, '::', k)
