/**
 * `deno task mercury …`: lists the workspace's plugins and dispatches to their
 * commands.
 *
 * @module
 */
import { discoverPlugins, dispatch, main, projectRoot, resolveEndpoints } from "@mercury/core";

if (import.meta.main) {
  await main(async (argv) => {
    const root = projectRoot();
    const plugins = await discoverPlugins({ root });
    return await dispatch(argv, {
      plugins,
      context: {
        root,
        verbose: argv.includes("--verbose"),
        endpoints: () => resolveEndpoints(),
        print: (line) => console.log(line),
      },
    });
  });
}
