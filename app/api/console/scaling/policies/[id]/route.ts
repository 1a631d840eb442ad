export { deleteScalingPolicy as DELETE } from "@/lib/control-plane/scaling/console";
