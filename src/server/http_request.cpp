#include "server/http_request.h"

#include <fmt/format.h>

namespace runnel::server {
namespace {

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

}  // namespace

std::optional<HttpRequest> parse_http_request_head(std::string_view head, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<HttpRequest> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  const auto line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const auto first_space = line.find(' ');
  const auto second_space = first_space == std::string_view::npos ? std::string_view::npos : line.find(' ', first_space + 1);
  if (first_space == std::string_view::npos || second_space == std::string_view::npos ||
      line.find(' ', second_space + 1) != std::string_view::npos) {
    return fail("request line is not 'METHOD TARGET VERSION'");
  }
  HttpRequest request;
  request.method = std::string(line.substr(0, first_space));
  const std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  request.version = std::string(line.substr(second_space + 1));
  if (request.method.empty()) return fail("empty method");
  for (char c : request.method) {
    if (!is_token_char(c)) return fail("bad method");
  }
  if (request.version != "HTTP/1.1" && request.version != "HTTP/1.0") return fail("not HTTP/1.0 or HTTP/1.1");
  if (target.empty() || target.front() != '/') return fail("target is not an absolute path");
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return fail("control character in target");
  }
  const auto question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  // Header lines are not needed; only their shape is checked.
  size_t position = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (position < head.size()) {
    auto end = head.find("\r\n", position);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view header = head.substr(position, end - position);
    if (!header.empty() && header.find(':') == std::string_view::npos) return fail("header line without ':'");
    position = end + 2;
  }
  return request;
}

std::string_view http_status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

std::string serialize_http_response(const HttpResponse& response, bool head_only) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                                response.status, http_status_text(response.status), response.content_type,
                                response.body.size());
  if (!response.allow.empty()) out += fmt::format("Allow: {}\r\n", response.allow);
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

}  // namespace runnel::server
