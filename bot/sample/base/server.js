const http = require("http");

const port = Number(process.env.PORT || 3000);

http
  .createServer((request, response) => {
    response.writeHead(200, { "Content-Type": "text/plain" });
    response.end("hello\n");
  })
  .listen(port, () => console.log(`listening on ${port}`));
