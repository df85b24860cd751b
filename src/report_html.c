/* The report as one self-contained HTML page (see include/ctxd/report.h):
 * the report's JSON with a deeper directory tree embedded in the page, and
 * a script that draws a squarified treemap of docker's context (click a
 * directory to zoom in, the path above to zoom out, hover for size and
 * share; colour from "sent" to "not sent") and the tables. Nothing is
 * fetched from the network. */
#include "ctxd/report.h"

#include <stdlib.h>
#include <string.h>

/* The treemap shows directories down to this depth and of at least this
 * share of the context; their bytes below that stay in their parents. */
#define HTML_DEPTH 12
#define HTML_MIN_SHARE 2000 /* 1/2000 of docker's context */
#define HTML_MAX_KIDS 60

static const char page_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<link rel=\"icon\" href=\"data:,\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>ctxd report</title>\n<style>\n"
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
	"h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em}\n"
	"table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"#crumbs span{cursor:pointer;color:#0645ad}#crumbs span:hover{text-decoration:underline}\n"
	"#map{position:relative;width:100%;height:560px;border:1px solid #888;background:#eee;overflow:hidden}\n"
	".cell{position:absolute;box-sizing:border-box;border:1px solid #fff;overflow:hidden;font-size:12px;"
	"padding:2px 4px;color:#111;cursor:default}\n"
	".cell.dir{cursor:zoom-in}.cell:hover{outline:2px solid #000;z-index:2}\n"
	"#tip{position:fixed;pointer-events:none;background:#222;color:#fff;padding:4px 8px;border-radius:4px;"
	"font-size:12px;display:none;z-index:9}\n"
	".legend span{display:inline-block;width:14px;height:14px;vertical-align:middle;margin:0 4px 0 12px}\n"
	"</style></head><body>\n"
	"<h1>ctxd report</h1><div id=\"head\"></div>\n"
	"<h2>Docker's context by directory</h2>\n"
	"<div class=\"legend\">colour: share of the bytes ctxd sends"
	"<span style=\"background:hsl(130,55%,60%)\"></span>all sent"
	"<span style=\"background:hsl(65,55%,62%)\"></span>half"
	"<span style=\"background:hsl(0,55%,65%)\"></span>none (pruned)</div>\n"
	"<div id=\"crumbs\"></div><div id=\"map\"></div><div id=\"tip\"></div>\n"
	"<div id=\"tables\"></div>\n"
	"<script type=\"application/json\" id=\"data\">";

static const char page_tail[] =
	"</script>\n<script>\n"
	"'use strict';\n"
	"const R=JSON.parse(document.getElementById('data').textContent);\n"
	"function human(b){const u=['B','kB','MB','GB','TB'];let i=0;while(b>=1000&&i<4){b/=1000;i++}"
	"return (i?b.toPrecision(4).replace(/\\.?0+$/,''):b)+u[i]}\n"
	"function pct(a,b){return b?(100*a/b).toFixed(1)+'%':'0%'}\n"
	"function el(t,a,txt){const e=document.createElement(t);if(a)for(const k in a)e.setAttribute(k,a[k]);"
	"if(txt!==undefined)e.textContent=txt;return e}\n"
	"function colour(n){const f=n.docker?n.sent/n.docker:0;return 'hsl('+Math.round(130*f)+',55%,'+(65-3*f)+'%)'}\n"
	"const total=R.tree.docker;\n"
	"function items(n){const kids=(n.children||[]).filter(k=>k.docker>0);let rest=n.docker;"
	"let sent=n.sent;for(const k of kids){rest-=k.docker;sent-=k.sent}"
	"const out=kids.slice();if(rest>0)out.push({name:kids.length?'(other files)':'(files)',path:n.path,"
	"docker:rest,sent:Math.max(0,sent),leaf:true});return out.sort((a,b)=>b.docker-a.docker)}\n"
	"function worst(row,side,scale){let s=0,mx=0,mn=Infinity;for(const r of row){const a=r.docker*scale;"
	"s+=a;mx=Math.max(mx,a);mn=Math.min(mn,a)}return Math.max(side*side*mx/(s*s),s*s/(side*side*mn))}\n"
	"function squarify(list,x,y,w,h){const out=[];let sum=0;for(const i of list)sum+=i.docker;"
	"if(!sum)return out;const scale=w*h/sum;let row=[],rest=list.slice();\n"
	" function place(){let s=0;for(const r of row)s+=r.docker*scale;if(w>=h){const cw=s/h;let cy=y;"
	"for(const r of row){const ch=r.docker*scale/cw;out.push([r,x,cy,cw,ch]);cy+=ch}x+=cw;w-=cw}"
	"else{const rh=s/w;let cx=x;for(const r of row){const rw=r.docker*scale/rh;out.push([r,cx,y,rw,rh]);"
	"cx+=rw}y+=rh;h-=rh}row=[]}\n"
	" while(rest.length){const side=Math.min(w,h),c=rest[0];"
	"if(!row.length||worst(row.concat([c]),side,scale)<=worst(row,side,scale)){row.push(c);rest.shift()}"
	"else place()}if(row.length)place();return out}\n"
	"const tip=document.getElementById('tip');\n"
	"function draw(n,trail){const map=document.getElementById('map');map.textContent='';"
	"const cr=document.getElementById('crumbs');cr.textContent='';"
	"trail.forEach((t,i)=>{if(i)cr.append(' / ');const s=el('span',null,i?t.name:'. (context)');"
	"s.onclick=()=>draw(t,trail.slice(0,i+1));cr.append(s)});"
	"cr.append('  '+human(n.docker)+', '+pct(n.docker,total)+' of docker\\'s context; ctxd sends '+human(n.sent));"
	"const W=map.clientWidth,H=map.clientHeight;\n"
	" for(const [c,x,y,w,h] of squarify(items(n),0,0,W,H)){"
	"const d=el('div',{class:'cell'+(c.children&&c.children.length?' dir':'')});"
	"d.style.left=x+'px';d.style.top=y+'px';d.style.width=w+'px';d.style.height=h+'px';"
	"d.style.background=colour(c);if(w>40&&h>16)d.textContent=c.name+(c.leaf?'':'/')+' '+human(c.docker);"
	"const info=(c.leaf?n.path+'/'+c.name:c.path)+': '+human(c.docker)+' ('+pct(c.docker,total)+"
	"' of docker\\'s context, '+pct(c.docker,n.docker)+' of this view); ctxd sends '+human(c.sent);"
	"d.onmousemove=e=>{tip.style.display='block';tip.textContent=info;"
	"tip.style.left=(e.clientX+12)+'px';tip.style.top=(e.clientY+12)+'px'};"
	"d.onmouseleave=()=>{tip.style.display='none'};"
	"if(c.children&&c.children.length)d.onclick=()=>{tip.style.display='none';draw(c,trail.concat([c]))};"
	"map.append(d)}}\n"
	"function table(title,head,rows,num){const t=document.getElementById('tables');if(!rows.length)return;"
	"t.append(el('h2',null,title));const tb=el('table');const tr=el('tr');"
	"for(const h of head)tr.append(el('th',null,h));tb.append(tr);"
	"for(const r of rows){const x=el('tr');r.forEach((v,i)=>x.append(el('td',num&&num[i]?{class:'n'}:null,v)));"
	"tb.append(x)}t.append(tb)}\n"
	"document.getElementById('head').append(el('p',null,'Context '+R.context+' (Dockerfile '+R.dockerfile+"
	"'): docker build would send '+R.docker.files+' files, '+human(R.docker.bytes)+'; ctxd sends '+"
	"R.sent.files+' files, '+human(R.sent.bytes)+' ('+pct(R.sent.bytes,R.docker.bytes)+').'));\n"
	"draw(R.tree,[R.tree]);\n"
	"window.addEventListener('resize',()=>draw(R.tree,[R.tree]));\n"
	"const names={'dockerignore':'.dockerignore','not-read':'not read by the Dockerfile',"
	"'git-ignored':'ignored by git','git-untracked':'not tracked by git','duplicates':'duplicates (--dedup)'};\n"
	"table('What each filter saves',['filter','files','bytes'],Object.keys(names).map(k=>"
	"[names[k],String(R.saved[k].files),human(R.saved[k].bytes)]),[0,1,1]);\n"
	"table('Largest files',['file','bytes','share',''],R.largest_files.map(f=>[f.path,human(f.bytes),"
	"pct(f.bytes,R.docker.bytes),f.reason]),[0,1,1,0]);\n"
	"table('By extension',['extension','files','bytes','sent'],R.extensions.map(x=>[x.ext||'(none)',"
	"String(x.docker.files),human(x.docker.bytes),human(x.sent.bytes)]),[0,1,1,1]);\n"
	"table('Secrets',['file','rule','','sent by ctxd'],R.secrets.map(s=>[s.path,s.rule,s.description,"
	"s.sent?'yes':'no']));\n"
	"table('Suggested .dockerignore lines',['line','saves','why','read by the Dockerfile'],"
	"R.suggestions.map(s=>[s.pattern,human(s.bytes),s.why,!s.read_bytes?'no':s.read_bytes==s.bytes?'yes':"
	"'partly']),[0,1,0,0]);\n"
	"table('Advice',['advice'],R.advice.map(a=>[a]));\n"
	"if(R.budget)table('Budget',['path','before','after'],R.budget.grew.map(g=>[g.path||'.',"
	"human(g.before),human(g.after)]),[0,1,1]);\n"
	"</script></body></html>\n";

int ctxd_report_html(const struct ctxd_report *r, json_t *doc, struct ctxd_buf *out,
		     struct ctxd_error *err)
{
	uint64_t min = ctxd_report_dir_docker(r->root) / HTML_MIN_SHARE;
	json_t *j = doc ? json_deep_copy(doc) : ctxd_report_json(r);
	char *s = NULL;

	if (j)
		json_object_set_new(j, "tree", ctxd_report_tree_json(r, r->root, HTML_DEPTH,
								     min ? min : 1, HTML_MAX_KIDS));
	/* JSON_ESCAPE_SLASH: no "</script>" can end the data early */
	if (j)
		s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH);
	json_decref(j);
	if (!s) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	ctxd_buf_puts(out, page_head);
	ctxd_buf_puts(out, s);
	ctxd_buf_puts(out, page_tail);
	free(s);
	if (out->oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	return 0;
}
