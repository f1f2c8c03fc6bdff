// The page's height in the title: scripts/gallery reads it (--dump-dom) to size the picture.
document.title = String(Math.ceil(document.documentElement.getBoundingClientRect().height));
