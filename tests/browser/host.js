// The test host: the real AppBridge of @modelcontextprotocol/ext-apps, bundled by esbuild into
// the page that the browser test loads. It renders the explorer in a sandboxed iframe (scripts
// only, opaque origin) and answers the view's tools/call through window.mcpCallTool, which the
// test binds to a real MCP client on the real server. It confirms each write tool with "the
// user" (the test), as a host must, and records what happened for the test to check.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const WRITE_TOOLS = new Set(["create_slice", "delete_slice"]);

window.host = { calls: [], confirmations: [], sizes: [], bridge: null };

window.startHost = async ({ html, theme, tool, input, result }) => {
  const iframe = document.createElement("iframe");
  iframe.id = "app";
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.style.cssText = "width: 960px; height: 400px; border: 0; display: block;";
  document.body.append(iframe);

  const bridge = new AppBridge(
    null,
    { name: "avala-test-host", version: "1.0.0" },
    { serverTools: {}, openLinks: {}, logging: {} },
    {
      hostContext: {
        theme,
        displayMode: "inline",
        platform: "web",
        toolInfo: { tool: { name: tool, inputSchema: { type: "object" } } },
      },
    },
  );
  window.host.bridge = bridge;
  bridge.oncalltool = async (params) => {
    const args = params.arguments || {};
    window.host.calls.push({ name: params.name, arguments: args });
    if (WRITE_TOOLS.has(params.name)) {
      // A real host asks its user here; the test is that user, and agrees.
      window.host.confirmations.push(params.name);
    }
    return await window.mcpCallTool(params.name, args);
  };
  bridge.onsizechange = ({ width, height }) => {
    window.host.sizes.push({ width, height });
    if (height) iframe.style.height = `${height}px`;
  };
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  // Listen before the document loads, so its ui/initialize is not missed.
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.srcdoc = html;
  await initialized;
  await bridge.sendToolInput({ arguments: input });
  await bridge.sendToolResult(result);
};

window.setTheme = (theme) => window.host.bridge.setHostContext({ theme });
