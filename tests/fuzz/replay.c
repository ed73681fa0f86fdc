// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * replay: run a fuzz target over every file of its corpus, without
 * libFuzzer, so that any compiler's build replays the committed corpus as
 * a regression test. Prints one TAP line.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	static uint8_t buf[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long files = 0;
	int i;

	printf("TAP version 13\n");
	for (i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		char path[4096];

		if (!d) {
			printf("not ok 1 - replay # cannot open %s\n1..1\n",
			       argv[i]);
			return 1;
		}
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (!run_file(path))
				files++;
		}
		closedir(d);
	}
	if (!files) {
		printf("not ok 1 - replay # empty corpus\n1..1\n");
		return 1;
	}
	printf("ok 1 - replayed %lu corpus inputs\n1..1\n", files);
	return 0;
}
