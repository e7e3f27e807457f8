#pragma once
// The little of HTTP/1.x the metrics endpoint needs: parse a request head
// (request line and headers, up to the blank line) and build a response.
// Sans-io, so the parser is unit-tested without sockets.
#include <optional>
#include <string>
#include <string_view>

namespace runnel::server {

struct HttpRequest {
  std::string method;  // "GET"
  std::string path;    // "/metrics", without the query string
  std::string query;   // after '?', may be empty
  std::string version; // "HTTP/1.1"
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // the Allow header of a 405
};

// `head` is everything before the first empty line. nullopt (with `error` set)
// when it is not an HTTP/1.x request.
std::optional<HttpRequest> parse_http_request_head(std::string_view head, std::string* error);

// A complete response with Content-Length and `Connection: close`; the body is
// left out for HEAD requests.
std::string serialize_http_response(const HttpResponse& response, bool head_only);

std::string_view http_status_text(int status);

}  // namespace runnel::server
