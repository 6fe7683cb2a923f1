"""Writes the Java block of bindings-uniffi/README.md, as it stands there,
into a method of consumer.ReadmeExample, so that the Java consumer project
compiles it (and Main runs it): a README example that no longer compiles
fails `make test-kotlin`.

usage: readme_example.py README.md OUT.java
"""

import re
import sys
from pathlib import Path

readme, out = Path(sys.argv[1]), Path(sys.argv[2])
section = readme.read_text().split("\n## Java\n", 1)[1]
match = re.search(r"```java\n(.*?)```", section, re.S)
if match is None:
    sys.exit(f"{readme}: no ```java block under ## Java")
body = "\n".join("        " + line if line else "" for line in match.group(1).splitlines())
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(f"""// Written by readme_example.py from {readme.name}; not edited by hand.
package consumer;

import dev.friendgate.CallbackException;
import dev.friendgate.CallbackHandler;
import dev.friendgate.Decision;
import dev.friendgate.Friendgate;
import dev.friendgate.HandlerConfig;
import dev.friendgate.Reply;
import dev.friendgate.ResponseItem;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** The README's Java example, with what it leaves to the reader. */
final class ReadmeExample {{
    /** What the example sent: (status, body). */
    final List<Object[]> sent = new ArrayList<>();

    private void send(int status, byte[] body) {{
        sent.add(new Object[] {{status, body}});
    }}

    private CompletionStage<Decision> lookupAsync(ResponseItem item) {{
        return CompletableFuture.completedFuture(Friendgate.allow());
    }}

    void run(String query, byte[] body, String token, Set<String> blocked) {{
{body}
    }}
}}
""")
